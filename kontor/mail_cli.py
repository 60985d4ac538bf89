"""``kontor smtp-sink`` (the local SMTP sink ``kontor up`` starts when ``KONTOR_SMTP_URL`` is
unset) and ``kontor mail`` (the mails it kept: newest last; ``--show N`` prints one's text)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from adapters.mail.sink import read, serve_page, sink
from settings import Settings


def add_parsers(sub: Any) -> None:
    smtp = sub.add_parser("smtp-sink", help="run the local SMTP sink (started by `kontor up`)")
    smtp.add_argument("--host", default="127.0.0.1")
    smtp.add_argument("--port", type=int, default=2525)
    smtp.add_argument("--dir", type=Path, default=None, help="default: KONTOR_VAR_DIR/mail")
    smtp.add_argument("--page-port", type=int, default=None, help="serve the mails' page here")
    mail = sub.add_parser("mail", help="list the mails the local SMTP sink kept")
    mail.add_argument("--dir", type=Path, default=None, help="default: KONTOR_VAR_DIR/mail")
    mail.add_argument("--show", type=int, metavar="N", help="print mail N (1 = the newest)")


def folder(args: argparse.Namespace, settings: Settings) -> Path:
    return args.dir or settings.resolved_var_dir / "mail"


def run_sink(args: argparse.Namespace, settings: Settings) -> int:
    controller = sink(folder(args, settings), args.host, args.port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controller.start()
    served = (
        None
        if args.page_port is None
        else serve_page(folder(args, settings), args.host, args.page_port)
    )
    print(f"SMTP sink on {args.host}:{args.port}, keeping mails in {folder(args, settings)}")
    try:
        stop.wait()
    finally:
        controller.stop()
        if served is not None:
            served.shutdown()
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    mails = read(folder(args, settings))
    if args.show:
        if not 1 <= args.show <= len(mails):
            print(f"kontor mail: there are {len(mails)} mails")
            return 2
        chosen = mails[-args.show]
        body = chosen.get_body(preferencelist=("plain",))
        print(f"From: {chosen['From']}\nTo: {chosen['To']}\nSubject: {chosen['Subject']}\n")
        print(body.get_content() if body is not None else "")
        return 0
    for n, kept in enumerate(reversed(mails), start=1):
        print(f"{n:>4}  {kept['Date']}  {kept['To']}  {kept['Subject']}")
    if not mails:
        print("no mails yet")
    return 0
