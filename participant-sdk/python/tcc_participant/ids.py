"""Validation and generation of global transaction and branch ids.

The same rules as the coordinator and the C++ SDK (participant-sdk/src/ids.h):
non-empty, [A-Za-z0-9._:-], a gid at most 128 characters, a branch id at
most 64.
"""

import re
import secrets

from .errors import invalid_argument

MAX_GID_LENGTH = 128
MAX_BRANCH_ID_LENGTH = 64
_ID_CHARS = re.compile(r"[A-Za-z0-9._:-]*")


def validate_id(field: str, value: str, max_length: int) -> None:
    """Raises TccError(INVALID_ARGUMENT) saying what is wrong with `value`."""
    if not value:
        raise invalid_argument(f"{field} is empty")
    if len(value) > max_length:
        raise invalid_argument(
            f"{field} is {len(value)} characters long; the limit is {max_length}")
    if not _ID_CHARS.fullmatch(value):
        raise invalid_argument(f"{field} {value!r} has a character outside [A-Za-z0-9._:-]")


def validate_gid(gid: str) -> None:
    validate_id("gid", gid, MAX_GID_LENGTH)


def validate_branch_id(branch_id: str) -> None:
    validate_id("branch_id", branch_id, MAX_BRANCH_ID_LENGTH)


def new_gid() -> str:
    """A random gid (128 bits, hex), so that a retried Begin stays idempotent."""
    return "g-" + secrets.token_hex(16)
