"""``--url`` for the commands that talk to daemons (``agentapi attach``, ``agentapi mcp``).

They take no other flag and no positional argument, so a few lines read them: argparse
would print a page of usage on a mistake, where these commands print one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentapi.errors import UsageError

URL_FLAGS = ("-u", "--url")


def parse_url_args(
    argv: Sequence[str], *, prog: str, metavar: str, repeatable: bool
) -> list[str] | None:
    """The ``--url`` values in order, as given; None when help was asked for.

    With ``repeatable`` false a second ``--url`` is a mistake (``attach`` follows one
    daemon, and silently taking one of two is a guess). Raises UsageError.
    """
    urls: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            return None
        if arg in URL_FLAGS:
            if not args:
                raise UsageError(f"flag {arg} needs a value ({metavar})")
            value = args.pop(0)
        elif arg.startswith("--url="):
            value = arg.removeprefix("--url=")
        elif arg.startswith("-"):
            # Both phrasings: scripts match either ("unknown flag" came from attach).
            raise UsageError(
                f"unexpected argument {arg!r} (unknown flag {arg!r}); run '{prog} --help'"
            )
        else:
            raise UsageError(f"unexpected argument {arg!r}; run '{prog} --help'")
        if urls and not repeatable:
            raise UsageError(f"--url given twice ({urls[0]!r} and {value!r}); give one")
        urls.append(value)
    return urls
