"""Command line of Staj Asistanı.

    python -m bot train    train the model unless one matches the current data and config
    python -m bot run      start the action server and Rasa (REST channel, HTTP API on 127.0.0.1)
    python -m bot shell    chat with the assistant in the terminal
    python -m bot eval     measure NLU on tests/data/nlu_test.yml, write docs/BENCHMARKS.md
    python -m bot migrate  bring the offer database (DATABASE_URL, else var/staj.db) up to date
"""

from __future__ import annotations

import argparse
import sys

from bot.config import load_settings


def main(argv: list[str] | None = None) -> int:
    """Parses the command line and runs one command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="train the model if the data or config changed")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("run", help="start the assistant")
    commands.add_parser("shell", help="chat in the terminal")
    evaluate = commands.add_parser("eval", help="NLU evaluation against the default pipeline")
    evaluate.add_argument("--skip-default", action="store_true",
                          help="do not train and measure Rasa's default pipeline")
    args = parser.parse_args(argv)

    from bot import model
    from bot.db import migrate

    if args.command == "migrate":
        migrate.upgrade()
        return 0
    if args.command == "train":
        model.ensure_trained()
        return 0
    if args.command == "eval":
        from bot import evaluation

        return evaluation.main(skip_default=args.skip_default)

    from bot import runner

    trained = model.ensure_trained()
    migrate.upgrade()
    if args.command == "run":
        return runner.run(trained, load_settings())
    return runner.shell(trained, load_settings())


if __name__ == "__main__":
    sys.exit(main())
