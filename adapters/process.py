"""Child processes that never outlive their parent.

``orphan_proof(argv)`` prefixes a command with util-linux's ``setpriv --pdeathsig``: Linux then
signals the child when the thread that started it ends, so even a SIGKILLed supervisor or test
session leaves nothing running. ``setpriv`` sets the signal after any change of user that
``Popen(user=...)`` made (such a change would clear it), and no Python code runs between fork and
exec, which ``preexec_fn`` would do and which is unsafe in a process that has threads.
"""

from __future__ import annotations

import shutil
import signal


class MissingToolError(RuntimeError):
    """A system tool the platform needs is not installed."""


def orphan_proof(argv: list[str], sig: int = signal.SIGTERM) -> list[str]:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise MissingToolError("setpriv (util-linux) is needed to tie children to their parent")
    return [setpriv, f"--pdeathsig={signal.Signals(sig).name}", "--", *argv]
