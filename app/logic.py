"""Pure helpers of the course app: no Streamlit, no TensorFlow, tested directly.

The course map as a Graphviz graph, lesson URLs, glossary and FAQ search, the copyable
builder call of the model lab, and the conversion of widget values to quiz responses.
"""

from __future__ import annotations

import json
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import quiz
from keras_cnn.analysis import dot, window

#: How a lesson state looks on the course map and in menus.
STATE_STYLE: dict[str, dict[str, str]] = {
    quiz.PASSED: {
        "fill": "#ceead6",
        "border": "#188038",
        "mark": "✔ ",
        "word": "passed",
        "suffix": " ✔",
    },
    quiz.UNLOCKED: {
        "fill": "#d2e3fc",
        "border": "#1a73e8",
        "mark": "",
        "word": "open",
        "suffix": "",
    },
    quiz.LOCKED: {
        "fill": "#f1f3f4",
        "border": "#9aa0a6",
        "mark": "",
        "word": "locked",
        "suffix": " (locked)",
    },
}
MATERIAL_ICON = {
    quiz.PASSED: ":material/check_circle:",
    quiz.UNLOCKED: ":material/menu_book:",
    quiz.LOCKED: ":material/lock:",
}


def lesson_url_path(lesson_id: str) -> str:
    """URL path of a lesson page: ``vgg`` -> ``lesson-vgg``."""
    return f"lesson-{lesson_id}"


#: Every ASCII punctuation character: CommonMark lets a backslash escape each of them, and
#: escaping ``:``, ``/``, ``@`` and ``&`` too keeps GitHub-style autolinks (``http://...``,
#: ``www.``, e-mail addresses), emoji codes and HTML entities from forming.
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def markdown_escape(text: str) -> str:
    """Text shown through ``st.markdown`` exactly as written (``3*3*64`` keeps its stars; a
    learner named ``![t](http://x/y.png)`` is those characters, not an image or a link)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def lesson_address(lesson_id: str, learner: str) -> str:
    """A lesson page's address for ``learner``, relative to the app's root
    (``lesson-vgg?learner=Ada``): opened, it keeps the learner as a reload does."""
    return f"{lesson_url_path(lesson_id)}?{urllib.parse.urlencode({'learner': learner})}"


def course_map_dot(matrix: quiz.Matrix, href: Callable[[str], str] | None = None) -> str:
    """The architecture matrix as DOT: one column per prerequisite depth, nodes by state.

    Args:
        matrix: From ``quiz.architecture_matrix(course, passed)``.
        href: lesson id -> the address a click on its node opens (the nodes look like
            buttons, so they are links); None for no links.

    Returns:
        DOT source, top to bottom (LeNet-5 -> AlexNet -> VGG / Inception -> ResNet ...), so the
        labels keep a readable size beside the lesson list.
    """
    statements = [dot.same_rank(n.lesson_id for n in column) for column in matrix.columns()]
    for node in matrix.nodes:
        style = STATE_STYLE[node.state]
        year = f" ({node.year})" if node.year else ""
        label = f"{node.label}{year}\n{style['mark']}{style['word']}"
        statements.append(
            dot.node(
                node.lesson_id,
                label=label,
                fillcolor=style["fill"],
                color=style["border"],
                tooltip=node.title,
                **({"href": href(node.lesson_id), "target": "_self"} if href else {}),
            )
        )
    statements += [dot.edge(src, dst) for src, dst in matrix.edges]
    return dot.digraph(
        statements,
        name="course",
        graph={"rankdir": "TB", "nodesep": 0.35, "ranksep": 0.3, "bgcolor": "transparent"},
        nodes={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": dot.FONT,
            "fontsize": 14,
            "fontcolor": "#202124",
            "penwidth": 1.6,
            "margin": "0.15,0.08",
        },
        edges={"color": "#9aa0a6", "arrowsize": 0.7},
    )


def course_progress(states: Mapping[str, str]) -> tuple[int, int]:
    """``(passed, total)`` lessons from ``quiz.lesson_states``."""
    return sum(s == quiz.PASSED for s in states.values()), len(states)


def continue_lesson(
    course: quiz.Course, states: Mapping[str, str], last_visited: tuple[str, str] | None
) -> str | None:
    """Where "continue where you left off" goes: the last visited lesson if it is still open
    and not passed, else the next lesson to do (``None`` when the course is done).
    """
    if last_visited:
        lesson_id = last_visited[0]
        if states.get(lesson_id) == quiz.UNLOCKED:
            return lesson_id
    for lesson in course.lessons:
        if states.get(lesson.id) == quiz.UNLOCKED:
            return lesson.id
    return None


def missing_prerequisites(lesson: quiz.Lesson, passed: Iterable[str]) -> list[str]:
    """Prerequisites of a lesson the learner has not passed yet, in their listed order."""
    passed = set(passed)
    return [p for p in lesson.prerequisites if p not in passed]


def _needed(course: quiz.Course, lesson: quiz.Lesson) -> set[str]:
    """Every lesson that must be passed before ``lesson``: its prerequisites, theirs, ..."""
    todo, needed = list(lesson.prerequisites), set()
    while todo:
        lesson_id = todo.pop()
        if lesson_id not in needed:
            needed.add(lesson_id)
            todo.extend(course.lesson(lesson_id).prerequisites)
    return needed


def next_open_step(
    course: quiz.Course, lesson: quiz.Lesson, states: Mapping[str, str]
) -> str | None:
    """The lesson a learner can open now on the way to a locked ``lesson``: the first open
    (unlocked, not passed) lesson, in course order, among its prerequisites, their
    prerequisites and so on; else the next open lesson of the course; ``None`` if none is open.
    """
    needed = _needed(course, lesson)
    for candidate in course.lessons:
        if candidate.id in needed and states.get(candidate.id) == quiz.UNLOCKED:
            return candidate.id
    return continue_lesson(course, states, None)


def next_after_pass(
    course: quiz.Course, lesson: quiz.Lesson, states: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """Where to go after passing ``lesson`` when its pass unlocked nothing new (VGG: BatchNorm
    also needs Inception): ``(next, waiting)``, the open lesson on the way to ``waiting``, the
    first still locked lesson that needs ``lesson``; else ``(the next open lesson of the
    course, None)``; ``(None, None)`` when no lesson is open.

    Args:
        course: The course.
        lesson: The lesson just passed.
        states: ``quiz.lesson_states`` after the pass.
    """
    for later in course.lessons:
        if lesson.id in later.prerequisites and states.get(later.id) == quiz.LOCKED:
            step = next_open_step(course, later, states)
            return step, later.id if step in _needed(course, later) else None
    return continue_lesson(course, states, None), None


def numbered(noun: str, numbers: Sequence[int]) -> str:
    """Numbers as a sentence says them: ``question 3``, ``questions 2 and 5``,
    ``questions 1, 2 and 5``."""
    if len(numbers) == 1:
        return f"{noun} {numbers[0]}"
    *first, last = (str(n) for n in numbers)
    return f"{noun}s {', '.join(first)} and {last}"


def _fold(text: str) -> str:
    """Text as search compares it: lower case, accents, spaces, hyphens and underscores
    dropped, so "BatchNorm" meets "Batch normalization" and "grad cam" meets "Grad-CAM"."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if ch.isalnum())


def _words(query: str) -> list[tuple[str, ...]]:
    """Each query word's spellings to look for: itself and, for a plural, its singular."""
    words = []
    for word in re.split(r"\s+", query.strip()):
        folded = _fold(word)
        if not folded:
            continue
        forms = [folded]
        if len(folded) > 3 and folded.endswith("s"):
            forms.append(folded[:-1])  # fields -> field, images -> image
            if folded.endswith("es"):
                forms.append(folded[:-2])  # boxes -> box
        words.append(tuple(forms))
    return words


def _matches(words: list[tuple[str, ...]], text: str) -> bool:
    folded = _fold(text)
    return all(any(form in folded for form in forms) for forms in words)


def search_glossary(entries: Sequence[quiz.GlossaryEntry], query: str) -> list[quiz.GlossaryEntry]:
    """Glossary entries whose term, definition or related terms contain every query word,
    whatever the case, hyphens, spaces or plural ("receptive fields", "BatchNorm", "grad cam")."""
    words = _words(query)
    hits = [e for e in entries if _matches(words, " ".join((e.term, e.definition, *e.see_also)))]
    # Matches in the term first.
    return sorted(hits, key=lambda e: not _matches(words, e.term))


def search_faq(entries: Sequence[quiz.FaqEntry], query: str) -> list[quiz.FaqEntry]:
    """FAQ entries whose question or answer contain every query word (as :func:`search_glossary`)."""
    words = _words(query)
    return [e for e in entries if _matches(words, f"{e.question} {e.answer}")]


def python_literal(value: Any) -> str:
    """Python source for a builder argument: strings with double quotes, tuples as tuples."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple | list):
        inner = ", ".join(python_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def builder_call(
    builder: str,
    positional: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> str:
    """The exact call that builds a model, leaving out arguments equal to their defaults.

    Args:
        builder: Builder function name, e.g. ``"build_resnet"``.
        positional: Positional arguments (the depth).
        kwargs: Keyword arguments as chosen.
        defaults: The builder's defaults (``inspect.signature``); equal values are omitted.

    Returns:
        E.g. ``keras_cnn.build_resnet(50, include_top=False, pooling="avg")``.
    """
    defaults = defaults or {}
    args = [python_literal(v) for v in positional]
    for key, value in (kwargs or {}).items():
        if key in defaults and defaults[key] == value:
            continue
        args.append(f"{key}={python_literal(value)}")
    return f"keras_cnn.{builder}({', '.join(args)})"


def parse_shape(text: str) -> tuple[int, int, int] | None:
    """Parse an input shape typed as ``224, 224, 3`` (or ``224x224x3``); blank -> ``None``.

    Raises:
        ValueError: If the text is not three positive integers.
    """
    text = text.strip().strip("()[]")
    if not text:
        return None
    parts = [p for p in re.split(r"[,x×\s]+", text) if p]
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(
            f"An input shape is three positive integers (height, width, channels), "
            f"e.g. 224, 224, 3. Received: {text!r}"
        )
    h, w, c = (int(p) for p in parts)
    return (h, w, c)


#: What the model lab builds on this server: larger requests are refused before any work.
LAB_LIMITS = {"side": 1024, "channels": 16, "classes": 100_000}
#: The largest model the lab saves as ``.keras`` (float32 weights: 4 bytes per parameter).
#: VGG-19 at 224 x 224 (144M) fits; VGG-19 at 400 x 400 (320M, 1.3 GB) does not.
MAX_DOWNLOAD_PARAMS = 150_000_000


def check_lab_request(shape: tuple[int, int, int] | None, classes: int) -> None:
    """Refuse, before anything is built, a model lab request over :data:`LAB_LIMITS`.

    Raises:
        ValueError: Naming the limit and the value received.
    """
    side, channels, most = LAB_LIMITS["side"], LAB_LIMITS["channels"], LAB_LIMITS["classes"]
    if shape is not None:
        h, w, c = shape
        if max(h, w) > side or c > channels:
            raise ValueError(
                f"The model lab builds inputs up to {side} x {side} pixels and {channels} "
                f"channels, so that the server stays responsive for everyone. "
                f"Received: input_shape={shape}. Build larger models in a notebook."
            )
    if classes > most:
        raise ValueError(
            f"The model lab builds up to {most:,} classes. Received: classes={classes:,}."
        )


def download_refusal(params: int) -> str | None:
    """Why a model is too large to download from the lab, or ``None`` when it is not."""
    if params <= MAX_DOWNLOAD_PARAMS:
        return None
    return (
        f"This model has {params / 1e6:,.0f}M parameters ({4 * params / 1e9:.1f} GB of float32 "
        f"weights): the lab saves models up to {MAX_DOWNLOAD_PARAMS / 1e6:.0f}M parameters. "
        "Run the code above in a notebook and call `model.save(...)` there."
    )


def widget_response(question: quiz.Question, value: Any) -> Any:
    """Turn a widget value into a ``quiz.grade`` response; ``None`` when unanswered.

    Single choice: the chosen index. Multiple choice: the list of chosen indices. Numeric and
    generated: the typed text parsed with ``quiz.parse_number``. Ordering: the items' indices
    in the order the learner picked them (all items must be picked).

    Raises:
        quiz.ResponseError: If the value cannot be read (not a number, items missing).
    """
    kind = question.kind
    if kind == "single":
        return None if value is None else int(value)
    if kind == "multiple":
        return None if not value else [int(v) for v in value]
    if kind in ("numeric", "generated"):
        if value is None or not str(value).strip():
            return None
        return quiz.parse_number(str(value))
    if kind == "ordering":
        if not value:
            return None
        order = [int(v) for v in value]
        if len(order) != len(question.choices):
            raise quiz.ResponseError(
                f"put all {len(question.choices)} items in order ({len(order)} picked)"
            )
        return order
    raise quiz.ResponseError(f"unknown question kind {kind!r}")


def widget_value(question: quiz.Question, response: Any) -> Any:
    """The widget value that gives ``response`` (inverse of :func:`widget_response`; tests)."""
    if question.kind in ("numeric", "generated"):
        return str(response)
    if question.kind in ("multiple", "ordering"):
        return list(response)
    return response


def conv_stack(size: int, layers: Sequence[tuple[int, int, int]]) -> list[dict[str, int]]:
    """Output size, jump and receptive field after each layer of a stack of convolutions.

    ``n_out = floor((n_in + 2p - k) / s) + 1``; ``r_l = r_{l-1} + (k_l - 1) * j_{l-1}``;
    ``j_l = j_{l-1} * s_l``, starting from ``r_0 = j_0 = 1`` (a pooling window is a layer
    like any other: kernel 2, stride 2). The rule is keras_cnn's own
    (:mod:`keras_cnn.analysis.window`, which its geometry engine follows through models).

    Args:
        size: int. Input height (= width) in pixels, at least 1.
        layers: ``(kernel, stride, padding)`` per layer, first to last.

    Returns:
        One dict per layer: ``layer`` (1-based), ``kernel``, ``stride``, ``padding``, ``size``
        (output size), ``jump`` and ``rf`` (receptive field in input pixels).

    Raises:
        ValueError: If a number is out of range (size, kernel, stride >= 1; padding >= 0) or a
            layer's window no longer fits its input (output size below 1).
    """
    if size < 1:
        raise ValueError(f"The input size must be at least 1 pixel. Received: size={size}")
    rows, n, axis = [], size, window.INPUT
    for i, (k, s, p) in enumerate(layers, start=1):
        if k < 1 or s < 1 or p < 0:
            raise ValueError(
                f"Layer {i}: kernel and stride must be at least 1 and padding at least 0. "
                f"Received: kernel={k}, stride={s}, padding={p}"
            )
        n_out = window.output_size(n, k, s, p)
        if n_out < 1:
            raise ValueError(
                f"Layer {i}: a {k}x{k} window does not fit a {n}x{n} input with padding {p} "
                f"(output size {n_out}). Use a smaller kernel, more padding or fewer layers."
            )
        axis, n = window.through_window(axis, k, s, p), n_out
        rows.append(
            {
                **{"layer": i, "kernel": k, "stride": s, "padding": p, "size": n},
                **{"jump": int(axis.jump), "rf": int(axis.size)},
            }
        )
    return rows


#: Where ``make notebooks`` writes the executed example notebooks.
NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
#: Environment variable naming the repository on GitHub (``github.com/owner/name``) for Colab.
REPOSITORY_ENV = "KERAS_CNN_REPOSITORY"


def notebook_path(name: str) -> Path | None:
    """The executed notebook ``name`` (``"03_vgg_receptive_fields"``), or None if not built."""
    if not name:
        return None
    path = NOTEBOOKS_DIR / f"{name}.ipynb"
    return path if path.is_file() else None


def colab_url(name: str, repository: str | None = None) -> str | None:
    """The "Open in Colab" address of a notebook of the repository on GitHub, or None.

    Args:
        name: The notebook's name.
        repository: ``github.com/owner/name`` (``https://`` and ``.git`` allowed); defaults to
            ``$KERAS_CNN_REPOSITORY``. Anything that is not a GitHub repository gives None.
    """
    import os
    import re

    repository = repository if repository is not None else os.environ.get(REPOSITORY_ENV, "")
    match = re.fullmatch(
        r"(?:https?://)?github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?",
        repository.strip(),
    )
    if not name or not match:
        return None
    owner, repo = match.groups()
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/main/docs/notebooks/{name}.ipynb"


#: At most this many characters of an address value are echoed in a message.
SHOWN_VALUE = 40


def source_from_address(
    wanted: str | None, sources: Sequence[tuple[str, str, str]], kind: str = "run"
) -> tuple[int | None, str | None]:
    """Which of Look inside's models the page address names (``/look_inside?run=<id>``).

    Args:
        wanted: The address value (``st.query_params.get("run")``), or None.
        sources: The page's ``(kind, name, label)`` choices.
        kind: The kind of source the value names.

    Returns:
        ``(index, message)``: the index into ``sources`` (None: the page's default) and a
        one-line message when the value names none of them (the value is matched exactly
        against the offered choices, so no address reaches a file path).
    """
    if wanted is None:
        return None, None
    for index, (source_kind, name, _) in enumerate(sources):
        if source_kind == kind and name == wanted:
            return index, None
    shown = str(wanted)[:SHOWN_VALUE] + ("..." if len(str(wanted)) > SHOWN_VALUE else "")
    offered = sum(source_kind == kind for source_kind, _, _ in sources)
    return None, (
        f"{kind}={shown!r} is not one of your {offered} stored runs with a model: showing "
        f"{sources[0][2] if sources else 'the default'}."
    )


def look_inside_address(run_id: str) -> str:
    """The address of Look inside on a stored run (a relative URL, for links in tables)."""
    from urllib.parse import urlencode

    return "/look_inside?" + urlencode({"run": run_id})


def lab_address(model: str) -> dict[str, str] | None:
    """The model-lab address (``/model_lab?...``) that rebuilds a registry model of the
    Training page, or None when the lab has no row for it."""
    match = re.fullmatch(r"(resnet|plain)(\d+)", model)
    if model == "lenet5":
        return {"family": "lenet5"}
    if match:
        address = {"family": "cifar_resnet", "depth": match.group(2)}
        return address | ({"residual": "false"} if match.group(1) == "plain" else {})
    return None
