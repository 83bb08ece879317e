"""Command line of Staj Asistanı.

python -m bot train    train the model unless one matches the current data and config
python -m bot run      start the action server, Rasa (REST, web chat, HTTP API) and the portal
python -m bot portal   the demo portal page with the web chat widget (started by run)
python -m bot actions [--port 5055]   the action server alone (started by run)
python -m bot shell    chat with the assistant in the terminal
python -m bot telegram the Telegram channel and reminders (needs TELEGRAM_BOT_TOKEN, Rasa up)
python -m bot eval     measure NLU on tests/data/nlu_test.yml, write docs/BENCHMARKS.md
python -m bot migrate  bring the offer database (DATABASE_URL, else var/staj.db) up to date
python -m bot seed-demo [--students N]   fill an empty database with demo data
python -m bot link-code --student ID     issue a one-time code, as the portal would
python -m bot staff add NAME --role reviewer|admin [--password-stdin]   a staff account
python -m bot purge-transcripts [--older-than 180d]   delete old conversations
python -m bot export-nlu [--output FILE]  staff corrections as a Rasa NLU YAML file
python -m bot review   serve the staff review app alone (make run starts it too)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.config import ConfigError, load_settings

DEFAULT_DEMO_STUDENTS = 3000
CONFIG_ERROR_EXIT = 2


def main(argv: list[str] | None = None) -> int:
    """Runs one command; a setting that is malformed or missing ends it with its message (exit
    status 2) before anything starts."""
    try:
        load_settings()  # every setting is checked here, once per process
        return run_command(argv)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return CONFIG_ERROR_EXIT


def run_command(argv: list[str] | None) -> int:
    """Parses the command line and runs one command."""
    from bot import log_masking

    log_masking.install()  # no personal data in any process's logs (bot/log_masking.py)
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="train the model if the data or config changed")
    commands.add_parser("migrate", help="apply database migrations")
    seed_parser = commands.add_parser("seed-demo", help="fill an empty database with demo data")
    seed_parser.add_argument(
        "--students",
        type=int,
        default=DEFAULT_DEMO_STUDENTS,
        help="bulk students to create (200000 gives about 1M offers)",
    )
    link_parser = commands.add_parser("link-code", help="issue a one-time chat link code")
    link_parser.add_argument("--student", type=int, required=True, help="the student's id")
    commands.add_parser("run", help="start the assistant")
    commands.add_parser("portal", help="serve the demo portal page with the web chat widget")
    commands.add_parser(
        "actions", help="the action server (options: python -m bot actions -h)", add_help=False
    )
    commands.add_parser("shell", help="chat in the terminal")
    commands.add_parser("telegram", help="the Telegram channel (Rasa must be running)")
    evaluate = commands.add_parser("eval", help="NLU evaluation against the default pipeline")
    evaluate.add_argument(
        "--skip-default",
        action="store_true",
        help="do not train and measure Rasa's default pipeline",
    )
    _add_review_commands(commands)
    args, argv_rest = parser.parse_known_args(argv)
    if argv_rest and args.command != "actions":
        parser.error(f"unrecognized arguments: {' '.join(argv_rest)}")

    if args.command == "portal":
        from bot.portal import server

        return server.main()
    if args.command == "actions":
        from bot import action_server

        return action_server.main(argv_rest)

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
    if args.command in REVIEW_COMMANDS:
        migrate.upgrade()
        return REVIEW_COMMANDS[args.command](args)
    if args.command == "telegram":
        from bot.telegram import application

        migrate.upgrade()
        return application.main(load_settings())
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
        print(
            f"  öğrenci {named.student_id}: {named.first_name} {named.last_name}, {named.situation}"
        )
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


# --- staff review of transcripts -----------------------------------------------------------


def _add_review_commands(commands: argparse._SubParsersAction) -> None:
    staff_parser = commands.add_parser("staff", help="manage staff accounts of the review app")
    staff_commands = staff_parser.add_subparsers(dest="staff_command", required=True)
    add = staff_commands.add_parser("add", help="create a staff account (or reset its password)")
    add.add_argument("username")
    add.add_argument("--role", choices=["reviewer", "admin"], required=True)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    purge = commands.add_parser("purge-transcripts", help="delete old conversations completely")
    purge.add_argument(
        "--older-than",
        type=_days,
        default=None,
        help="e.g. 180d (default: TRANSCRIPT_RETENTION_DAYS, 180)",
    )
    export = commands.add_parser("export-nlu", help="corrected examples as Rasa NLU YAML")
    export.add_argument("--output", default="-", help="file to write (default: stdout)")
    commands.add_parser("review", help="serve the staff review app")


def _days(value: str) -> int:
    raw = value.strip().lower().removesuffix("d")
    if not raw.isdigit():
        raise argparse.ArgumentTypeError("give a number of days, e.g. 180d")
    return int(raw)


def staff_add(args: argparse.Namespace) -> int:
    """Creates a staff account; the password is asked twice, or read from stdin."""
    import getpass

    from bot.db import staff
    from bot.db.models import StaffRole
    from bot.db.session import Database

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Parola: ")
        if getpass.getpass("Parola (tekrar): ") != password:
            print("Parolalar aynı değil.", file=sys.stderr)
            return 1
    try:
        staff.add_staff(
            Database(),
            args.username,
            password,
            StaffRole(args.role),
            dt.datetime.now(dt.timezone.utc),
        )
    except ValueError:
        print(
            f"Kullanıcı adı 3-64 küçük harf, rakam, nokta, tire olmalı; parola en az "
            f"{staff.MIN_PASSWORD_LENGTH} karakter.",
            file=sys.stderr,
        )
        return 1
    print(f"Personel hesabı hazır: {args.username} ({args.role})")
    return 0


def purge_transcripts(args: argparse.Namespace) -> int:
    """Deletes conversations older than the retention period."""
    from bot.db import review
    from bot.db.session import Database

    days = (
        args.older_than
        if args.older_than is not None
        else (load_settings().transcript_retention_days)
    )
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    gone = review.purge(Database(), cutoff)
    print(f"Deleted {gone} conversations (and all events) older than {days} days.")
    return 0


def export_nlu(args: argparse.Namespace) -> int:
    """Writes the staff's corrected examples as a Rasa NLU YAML file."""
    from bot.db.session import Database
    from bot.review.nlu_export import export_yaml

    text, count = export_yaml(Database())
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
        print(f"{count} examples written to {args.output}", file=sys.stderr)
    return 0


def serve_review(args: argparse.Namespace) -> int:
    """Serves the staff review app until stopped."""
    from bot.review import server

    server.main(load_settings())
    return 0


REVIEW_COMMANDS = {
    "staff": staff_add,
    "purge-transcripts": purge_transcripts,
    "export-nlu": export_nlu,
    "review": serve_review,
}


if __name__ == "__main__":
    sys.exit(main())
