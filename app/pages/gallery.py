"""The class gallery (class mode): share one of your runs with a note; open, download and
rebuild your classmates' models; leaderboards per dataset. An instructor can hide an entry.

All rules (whose runs, who sees what, checksums, ranking) are ``quiz.gallery``'s; this page
draws them and computes the card's Keras numbers (parameters, multiply-adds) and notebook.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from app import charts, classroom, logic, shell
from quiz import gallery, roster

st.title("Class gallery")
member = classroom.current()
if member is None:
    st.info("The class gallery is part of class mode (see docs/sharing.md).")
    st.stop()
try:
    folder = gallery.shared_dir()
except gallery.GalleryError as exc:
    st.error(str(exc), icon=":material/folder_off:")
    st.stop()
progress = shell.store()
names = {m.email: m.name for m in roster.load(progress)}
#: Rows a leaderboard shows.
TOP = 10


def _card(run_id: str) -> tuple[dict, bytes]:
    """What needs Keras: parameters, multiply-adds, the lab address; and the run's notebook."""
    from keras_cnn import runs as runs_lib
    from keras_cnn.analysis.summary import count_macs
    from keras_cnn.training import notebook

    model = runs_lib.load_model(run_id)
    _, meta = runs_lib.load_run(run_id)
    card = {
        "builder": "keras_cnn.train.build_model",
        "args": {"name": meta.get("model"), "data": meta.get("data")},
        "lab": logic.lab_address(str(meta.get("model"))),
        "params": int(model.count_params()),
        "macs": int(count_macs(model)),
        "input_shape": list(model.input_shape[1:]),
    }
    return card, notebook.to_bytes(notebook.run_notebook(run_id))


def _share() -> None:
    from keras_cnn.paths import runs_dir

    state = st.session_state
    run_id = state.get("gallery_run")
    try:
        card, book = _card(run_id)
        gallery.share(
            progress,
            member.email,
            runs_dir() / run_id,
            card,
            state.get("gallery_note", ""),
            folder,
            notebook=book,
        )
    except (gallery.GalleryError, ValueError) as exc:
        state["gallery_message"] = ("error", str(exc))
    else:
        state["gallery_message"] = ("success", f"Shared {run_id}.")


with st.expander("Share one of your runs", expanded=True):
    from keras_cnn import runs as runs_lib

    table = runs_lib.list_runs()
    mine = []
    for run in table[table.model_file.notna()].itertuples():
        _, meta = runs_lib.load_run(run.id)
        if meta.get("learner") == member.email:
            mine.append(run.id)
    if not mine:
        st.info("Train a model on the Training page while signed in: it can be shared here.")
    else:
        st.selectbox("Run", mine, key="gallery_run")
        st.text_area("Note", key="gallery_note", max_chars=gallery.MAX_NOTE)
        st.button("Share", key="gallery_share", on_click=_share, type="primary")
    kind, text = st.session_state.pop("gallery_message", (None, None))
    if kind:
        getattr(st, kind)(text)

shown = gallery.entries(progress, member.email, instructor=member.is_instructor)
st.subheader("Leaderboards")
for board in gallery.leaderboards(shown):
    st.markdown(f"**{board.title}**")
    if not board.ranked:
        st.caption(board.empty)
        continue
    # A static table, not st.dataframe: a few rows a learner reads (and a browser paints) at once.
    st.table(
        pd.DataFrame(
            [
                {
                    "rank": rank,
                    "who": logic.markdown_escape(names.get(e.learner, "a classmate")),
                    "model": logic.markdown_escape(e.model),
                    "test accuracy": f"{e.test_accuracy:.1%}",
                    "parameters": "" if e.params is None else f"{e.params:,}",
                    "entry": f"#{e.id}",
                }
                for rank, e in enumerate(board.ranked[:TOP], 1)
            ]
        ),
        hide_index=True,
    )
    if len(board.ranked) > TOP:
        st.caption(f"The top {TOP} of {len(board.ranked)} learners.")

st.subheader("Entries")
if not shown:
    st.info("Nothing shared yet.")
for item in shown:
    card = item.card
    with st.container(border=True):
        title = f"#{item.id} {item.model} on {item.data}" + (" (hidden)" if item.hidden else "")
        who = logic.markdown_escape(names.get(item.learner, "a classmate"))
        when = item.shared[:16].replace("T", " ") + " UTC"  # share() stores UTC
        st.markdown(f"**{title}** by {who}, {when}")
        if item.note:
            st.caption(logic.markdown_escape(item.note))
        accuracy = "" if item.test_accuracy is None else f"{item.test_accuracy:.1%}"
        st.markdown(
            f"Options `{json.dumps(card.get('args'))}` · parameters {item.params:,} · "
            f"multiply-adds {card.get('macs') or 0:,} · {item.epochs} epochs · "
            f"final test accuracy {accuracy}"
        )
        curves = pd.DataFrame(card.get("curves") or [])
        if {"epoch", "test_accuracy", "accuracy"} <= set(curves):
            st.altair_chart(charts.training_curves(curves.assign(model=item.model), height=150))
        row = st.container(horizontal=True)  # the buttons side by side, each its own width
        row.link_button("Look inside", "/look_inside?" + urlencode({"shared": item.id}))
        try:
            model_bytes = gallery.verified_file(item, folder).read_bytes()
        except gallery.GalleryError as exc:
            row.error(str(exc))
        else:
            row.download_button(
                ".keras", model_bytes, f"{item.model}_{item.id}.keras", key=f"g_keras_{item.id}"
            )
        if card.get("notebook"):
            try:
                book = gallery.verified_file(item, folder, "notebook").read_bytes()
            except gallery.GalleryError as exc:
                row.error(str(exc))
            else:
                row.download_button(
                    "Notebook", book, f"{item.model}_{item.id}.ipynb", key=f"g_nb_{item.id}"
                )
        if card.get("lab"):
            row.link_button("Rebuild in the model lab", "/model_lab?" + urlencode(card["lab"]))
        if member.is_instructor:
            row.button(
                "Show" if item.hidden else "Hide",
                key=f"g_hide_{item.id}",
                on_click=gallery.hide,
                args=(progress, item.id, True, not item.hidden),
            )
