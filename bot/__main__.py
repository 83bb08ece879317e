"""Command line of Staj Asistanı.

    python -m bot train    train the model unless one matches the current data and config
    python -m bot run      start the action server and Rasa (REST channel, HTTP API on 127.0.0.1)
    python -m bot shell    chat with the assistant in the terminal
    python -m bot telegram the Telegram channel and reminders (needs TELEGRAM_BOT_TOKEN, Rasa up)
    python -m bot eval     measure NLU on tests/data/nlu_test.yml, write docs/BENCHMARKS.md
    python -m bot migrate  bring the offer database (DATABASE_URL, else var/staj.db) up to date
    python -m bot seed-demo [--students N]   fill an empty database with demo data
    python -m bot link-code --student ID     issue a one-time code, as the portal would
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.config import load_settings

DEFAULT_DEMO_STUDENTS = 3000


def main(argv: list[str] | None = None) -> int:
    """Parses the command line and runs one command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="train the model if the data or config changed")
    commands.add_parser("migrate", help="apply database migrations")
    seed_parser = commands.add_parser("seed-demo", help="fill an empty database with demo data")
    seed_parser.add_argument("--students", type=int, default=DEFAULT_DEMO_STUDENTS,
                           help="bulk students to create (200000 gives about 1M offers)")
    link_parser = commands.add_parser("link-code", help="issue a one-time chat link code")
    link_parser.add_argument("--student", type=int, required=True, help="the student's id")
    commands.add_parser("run", help="start the assistant")
    commands.add_parser("shell", help="chat in the terminal")
    commands.add_parser("telegram", help="the Telegram channel (Rasa must be running)")
    evaluate = commands.add_parser("eval", help="NLU evaluation against the default pipeline")
    evaluate.add_argument("--skip-default", action="store_true",
                          help="do not train and measure Rasa's default pipeline")
    args = parser.parse_args(argv)

    from bot import model
    from bot.db import migrate

    if args.command == "migrate":
        migrate.upgrade()
        return 0
    if args.command == "seed-demo":
        migrate.upgrade()
        return seed_demo(args.students)
    if args.command == "link-code":
        migrate.upgrade()
        return issue_link_code(args.student)
    if args.command == "telegram":
        from bot.channels import telegram

        migrate.upgrade()
        return telegram.main(load_settings())
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
        seed_demo(DEFAULT_DEMO_STUDENTS)
        return runner.run(trained, load_settings())
    return runner.shell(trained, load_settings())


def seed_demo(students: int) -> int:
    """Fills an empty database with demo data; always refreshes the named demo students."""
    from bot.db import demo
    from bot.db.session import Database

    if demo.seed(Database(), students, dt.datetime.now(dt.timezone.utc)):
        print(f"Demo data created: {students} students.")
    else:
        print("The database already has students; refreshed the named demo students only.")
    for named in demo.NAMED_STUDENTS:
        print(f"  öğrenci {named.student_id}: {named.first_name} {named.last_name}, "
              f"{named.situation}")
    return 0


def issue_link_code(student_id: int) -> int:
    """Prints a one-time link code for the student, as the portal would show it."""
    from bot.db import linking
    from bot.db.session import Database

    try:
        code = linking.issue_code(Database(), student_id, dt.datetime.now(dt.timezone.utc))
    except LookupError:
        print(f"Öğrenci bulunamadı: {student_id}", file=sys.stderr)
        return 1
    minutes = int(linking.CODE_LIFETIME.total_seconds() // 60)
    print(f"Bağlantı kodu: {code}  ({minutes} dakika geçerli, tek kullanımlık)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
