"""Command line: ``python -m keras_cnn summary resnet50``, ``list``, ``figures``, ``train``,
``exercise check residual_block solution.py``, and a class's ``worker`` and ``queue limits``
(:mod:`keras_cnn.training.queue_cli`).

Each subcommand is a small function; ``train`` checks every argument before any work (the
same checks as :func:`keras_cnn.train.train`) and exits with status 2 and a message naming
the valid values.
"""

from __future__ import annotations

import argparse
import json
import sys

#: The largest height, width or channel count ``summary --input-shape`` takes: eight
#: times ImageNet's 224 and more, far short of sizes whose counts mean nothing.
MAX_SIDE = 8192
#: Options whose value may begin with "-" (argparse would read "-5,-5,3" as an option).
_VALUE_MAY_START_WITH_DASH = ("--input-shape",)


def _input_shape(text: str) -> tuple[int, int, int]:
    """``--input-shape``: ``height,width,channels``, each an int from 1 to :data:`MAX_SIDE`."""
    parts = text.split(",")
    valid = f"height,width,channels: three ints from 1 to {MAX_SIDE:,}, e.g. 64,64,3"
    try:
        shape = tuple(int(part) for part in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or not all(1 <= side <= MAX_SIDE for side in shape):
        raise argparse.ArgumentTypeError(f"must be {valid}. Received: {text!r}")
    return shape


def _summary(args: argparse.Namespace) -> int:
    import pandas as pd

    import keras_cnn

    kwargs = {}
    if args.input_shape:
        kwargs["input_shape"] = args.input_shape
    if args.no_top:
        kwargs["include_top"] = False
    model = keras_cnn.get_model(args.model, **kwargs)
    table = keras_cnn.summarize(model)
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(table.to_string(index=False))
    t = keras_cnn.totals(model)
    print()
    print(f"Model: {model.name}")
    print(f"Weight layers:        {t['weight_layers']}")
    print(f"Parameters:           {t['params']:,}")
    print(f"Trainable parameters: {t['trainable_params']:,}")
    print(f"Multiply-adds:        {t['macs']:,} ({t['macs'] / 1e9:.2f} G)")
    return 0


def _list(args: argparse.Namespace) -> int:
    from keras_cnn.models.registry import list_models

    table = list_models().drop(columns=["paper", "source"])
    print(table.to_string(index=False))
    return 0


def _figures(args: argparse.Namespace) -> int:
    from keras_cnn.models.registry import FIGURES_PATH, compute_figures

    figures = compute_figures()
    text = json.dumps(figures, indent=1, sort_keys=True) + "\n"
    if args.write:
        FIGURES_PATH.write_text(text)
        print(f"wrote {FIGURES_PATH}")
    else:
        print(text)
    return 0


def _train(args: argparse.Namespace) -> int:
    import pandas as pd

    from keras_cnn.training.trainer import device_info, train

    strategy = _multi_worker_strategy() if args.multi_worker else None
    info = device_info()
    print(f"Training {args.model} on {args.data} ({info['device']}, {info['backend']} backend)")
    history = train(
        args.model,
        args.data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        warmup=args.warmup,
        augment=args.augment,
        limit=args.limit,
        data_dir=args.data_dir,
        checkpoint_dir=args.checkpoint_dir,
        resume=not args.no_resume,
        seed=args.seed,
        strategy=strategy,
        mixed_precision=_ON_OFF[args.mixed_precision],
        jit_compile=_ON_OFF[args.jit],
        verbose=args.verbose,
        record=not args.no_record,
    )
    print()
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(history.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if len(history):
        last = history.iloc[-1]
        total = history.seconds.sum()
        print(
            f"\nFinal: accuracy {last.accuracy:.3f}, test_accuracy {last.test_accuracy:.3f} "
            f"after {int(last.epoch)} epochs ({total:.0f} s)"
        )
    if history.attrs.get("run_dir"):
        print(f"Stored in {history.attrs['run_dir']}")
    return 0


def _multi_worker_strategy():
    """``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``, checked first."""
    import os

    import keras

    text = os.environ.get("TF_CONFIG")
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "--multi-worker uses tf.distribute.MultiWorkerMirroredStrategy and needs "
            f"KERAS_BACKEND=tensorflow. Received: backend={keras.backend.backend()!r}"
        )
    try:
        config = json.loads(text or "")
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
        if config["task"]["type"] != "worker" or not 0 <= index < len(workers):
            raise ValueError(f"task {config['task']!r} is not one of the {len(workers)} workers")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            "--multi-worker reads the cluster from TF_CONFIG, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} (one index per worker). '
            f"Received: TF_CONFIG={text!r} ({error})"
        ) from None
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()


def _exercise(args: argparse.Namespace) -> int:
    from keras_cnn.exercises import cli

    return cli.run(args)


def _queue_command(args: argparse.Namespace) -> int:
    from keras_cnn.training import queue_cli

    return queue_cli.COMMANDS[args.command](args)


def _add_exercise(sub) -> None:
    from keras_cnn.exercises import cli

    cli.add_parser(sub)


_ON_OFF = {"auto": "auto", "on": True, "off": False}


def _checked(check, name: str, convert):
    """An argparse ``type`` that converts and applies one of the trainer's checks."""

    def parse(text: str):
        try:
            return check(name, convert(text))
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = name
    return parse


def _verbose(text: str):
    """``--verbose``: "auto", 0, 1 or 2, as ``train(verbose=...)`` takes them."""
    from keras_cnn.training.config import VERBOSE

    value = int(text) if text.isdigit() else text
    if value not in VERBOSE:
        raise argparse.ArgumentTypeError(
            f"`verbose` must be one of {', '.join(map(str, VERBOSE))}. Received: verbose={text!r}"
        )
    return value


def _warmup(text: str):
    """``--warmup``: "auto" or a number of epochs >= 0, as ``train(warmup=...)`` takes it."""
    from keras_cnn.training.config import check_number

    if text == "auto":
        return text
    try:
        return check_number("warmup", float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "`warmup` must be 'auto' or a finite number of epochs >= 0, e.g. 1 (0 for none). "
            f"Received: warmup={text!r}"
        ) from None


def _add_train(sub) -> None:
    from keras_cnn.training import data as data_lib
    from keras_cnn.training.config import TrainConfig, check_integer, check_number
    from keras_cnn.training.schedules import OPTIMIZERS, SCHEDULES

    default = TrainConfig.defaults()

    def integer(name):
        return _checked(check_integer, name, int)

    def number(name):
        return _checked(check_number, name, float)

    def switch(name):
        return next(k for k, v in _ON_OFF.items() if v == default[name])

    p = sub.add_parser("train", help=COMMANDS["train"][1])
    p.add_argument("model", help="resnet20, plain20, resnet56, lenet5, vgg_small, …")
    p.add_argument("--data", default=default["data"], choices=sorted(data_lib.DATASETS))
    p.add_argument("--epochs", type=integer("epochs"), default=default["epochs"])
    p.add_argument("--batch-size", type=integer("batch_size"), default=default["batch_size"])
    p.add_argument("--optimizer", default=default["optimizer"], choices=sorted(OPTIMIZERS))
    p.add_argument(
        "--lr", type=number("learning_rate"), default=default["learning_rate"], help="initial rate"
    )
    p.add_argument("--momentum", type=number("momentum"), default=default["momentum"])
    p.add_argument("--weight-decay", type=number("weight_decay"), default=default["weight_decay"])
    p.add_argument("--schedule", default=default["schedule"], choices=list(SCHEDULES))
    p.add_argument(
        "--warmup",
        type=_warmup,
        default=default["warmup"],
        help="epochs of linear learning-rate warm-up: auto (the first epoch of a run of 2 or "
        "more) or a number (0: none)",
    )
    p.add_argument("--augment", action="store_true", help="pad-crop(-flip) augmentation")
    p.add_argument(
        "--limit", type=integer("limit"), help="use only the first N images of each split"
    )
    p.add_argument("--data-dir", help="TFDS data directory (default: TFDS_DATA_DIR)")
    p.add_argument("--checkpoint-dir", help="save every epoch here and resume from it")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--seed", type=integer("seed"), help="0 to 2**32 - 1")
    p.add_argument("--mixed-precision", default=switch("mixed_precision"), choices=list(_ON_OFF))
    p.add_argument("--jit", default=switch("jit_compile"), choices=list(_ON_OFF))
    p.add_argument(
        "--verbose",
        type=_verbose,
        default=default["verbose"],
        help="auto or 1: a progress bar, 2: a line per epoch, 0: none",
    )
    p.add_argument("--no-record", action="store_true", help="do not store the run")
    p.add_argument(
        "--multi-worker",
        action="store_true",
        help="train across processes/machines with MultiWorkerMirroredStrategy, reading "
        "TF_CONFIG (run the same command on every worker; --batch-size is the global batch)",
    )


#: subcommand -> (handler, help).
COMMANDS = {
    "summary": (_summary, "print a model's layer table and totals"),
    "list": (_list, "list the registry's models"),
    "figures": (_figures, "recompute parameters / MACs of every registry model"),
    "train": (_train, "train a model (default: on the embedded digits) and print its history"),
    "exercise": (_exercise, "list, show or check the course's code exercises"),
    "worker": (_queue_command, "take a class's training jobs from its queue and train them"),
    "queue": (_queue_command, "a class's training queue: show or set its limits, list its jobs"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m keras_cnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser("summary", help=COMMANDS["summary"][1])
    summary.add_argument("model", help="registry name, e.g. resnet50 (see `list`)")
    summary.add_argument(
        "--input-shape",
        type=_input_shape,
        help=f"height,width,channels, e.g. 64,64,3 (each 1 to {MAX_SIDE:,})",
    )
    summary.add_argument("--no-top", action="store_true", help="include_top=False")
    sub.add_parser("list", help=COMMANDS["list"][1])
    figures = sub.add_parser("figures", help=COMMANDS["figures"][1])
    figures.add_argument("--write", action="store_true", help="update keras_cnn/figures.json")
    _add_train(sub)
    _add_exercise(sub)
    from keras_cnn.training import queue_cli

    queue_cli.add_parsers(sub)
    return parser


def _joined(argv: list[str]) -> list[str]:
    """``--input-shape -5,-5,3`` as ``--input-shape=-5,-5,3``, so that its check reports it."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in _VALUE_MAY_START_WITH_DASH and arg[:1] == "-" and arg[1:2].isdigit():
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors a command reports in one line: bad values, data that is not there, and
    files that cannot be written (a full disk: exit status 1, the others 2).

    ``DatasetUnavailableError`` and ``StorageError`` are only looked up once their modules
    are loaded (a command that never loaded them cannot raise them), so ``summary`` and
    ``list`` import no training code for this.
    """
    data = sys.modules.get("keras_cnn.training.data")
    storage = sys.modules.get("keras_cnn.training.runs")
    return (
        ValueError,
        *([data.DatasetUnavailableError] if data else []),
        *([storage.StorageError] if storage else []),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_joined(sys.argv[1:] if argv is None else list(argv)))
    try:
        return COMMANDS[args.command][0](args)
    except Exception as error:
        if not isinstance(error, _user_errors()):
            raise
        print(f"error: {getattr(error, 'cli', error)}", file=sys.stderr)
        return 1 if isinstance(error, OSError) else 2


if __name__ == "__main__":
    sys.exit(main())
