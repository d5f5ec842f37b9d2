"""Command line: ``python -m keras_cnn summary resnet50``, ``list``, ``figures``."""

from __future__ import annotations

import argparse
import json
import sys


def _summary(args: argparse.Namespace) -> int:
    import pandas as pd

    import keras_cnn

    kwargs = {}
    if args.input_shape:
        kwargs["input_shape"] = tuple(int(v) for v in args.input_shape.split(","))
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
    from keras_cnn.registry import list_models

    table = list_models().drop(columns=["paper", "source"])
    print(table.to_string(index=False))
    return 0


def _figures(args: argparse.Namespace) -> int:
    from keras_cnn.registry import FIGURES_PATH, compute_figures

    figures = compute_figures()
    text = json.dumps(figures, indent=1, sort_keys=True) + "\n"
    if args.write:
        FIGURES_PATH.write_text(text)
        print(f"wrote {FIGURES_PATH}")
    else:
        print(text)
    return 0


#: subcommand -> (handler module:function, help). Other modules add theirs here.
COMMANDS = {
    "summary": (_summary, "print a model's layer table and totals"),
    "list": (_list, "list the registry's models"),
    "figures": (_figures, "recompute parameters / MACs of every registry model"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m keras_cnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser("summary", help=COMMANDS["summary"][1])
    summary.add_argument("model", help="registry name, e.g. resnet50 (see `list`)")
    summary.add_argument("--input-shape", help="e.g. 64,64,3")
    summary.add_argument("--no-top", action="store_true", help="include_top=False")
    sub.add_parser("list", help=COMMANDS["list"][1])
    figures = sub.add_parser("figures", help=COMMANDS["figures"][1])
    figures.add_argument("--write", action="store_true", help="update keras_cnn/figures.json")
    try:
        from keras_cnn.train import add_train_command
    except ImportError:
        pass
    else:
        add_train_command(sub, COMMANDS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][0](args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
