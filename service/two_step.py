"""Two-step sign-in with an authenticator app: secrets, codes and recovery codes, stored.

A user's secret is kept in ``User.totp_secret`` from the moment enrolment begins, but
two-step sign-in is on only once ``totp_enabled_at`` is set, after a correct code. Each
accepted code's step is kept in ``totp_last_step``; no code of that step or an earlier one is
accepted again (``service.domain.authenticator_codes``). Recovery codes are kept only as
SHA-256 hashes: they are long random strings, so a fast hash is enough.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from service.account_models import RecoveryCode
from service.accounts import secret_hash
from service.config import Settings
from service.db import lock
from service.domain import authenticator_codes as codes
from service.models import User

ISSUER = "TouchBase"


def start_enrolment(user: User) -> str:
    """The secret the user is enrolling with: kept while enrolment is unfinished (a page
    reloaded shows the same one), a new one otherwise. The caller commits."""
    if user.totp_secret is None or user.totp_enabled_at is not None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: User, secret: str, practice_name: str) -> str:
    """The ``otpauth://`` address an app scans: the practice as issuer, the email as account."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=practice_name.strip() or ISSUER
    )


def _take_totp(session: Session, user: User, typed: str, now: datetime) -> bool:
    """True, and its step recorded, when ``typed`` is the code of a step not used yet."""
    locked = lock(session, User, user.id)  # two requests with one code take turns
    if locked is None or locked.totp_secret is None:
        return False
    totp = pyotp.TOTP(locked.totp_secret)
    steps = codes.steps_to_try(codes.step_at(now.timestamp()), locked.totp_last_step)
    expected = {s: totp.at(s * codes.STEP_SECONDS) for s in steps}
    step = codes.matched_step(typed, expected)
    if step is None:
        return False
    locked.totp_last_step = step
    return True


def _take_recovery_code(session: Session, user: User, plain: str, now: datetime) -> bool:
    """True, and the code spent, when it is one of the user's unused recovery codes."""
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == secret_hash(plain),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(spent, "rowcount", 0))


def take_code(session: Session, user: User, typed: codes.TypedCode, now: datetime) -> bool:
    """True when ``typed`` signs ``user`` in now: an app's code of a step not used yet, or
    an unused recovery code (spent here). The caller commits."""
    if typed.kind == codes.TOTP:
        return _take_totp(session, user, typed.value, now)
    return user.totp_enabled_at is not None and _take_recovery_code(session, user, typed.value, now)


def new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    """Ten new recovery codes, as shown once to the user; the old ones stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    made = []
    for _ in range(codes.RECOVERY_COUNT):
        plain = "".join(
            secrets.choice(codes.RECOVERY_ALPHABET) for _ in range(codes.RECOVERY_LENGTH)
        )
        session.add(RecoveryCode(user_id=user.id, code_hash=secret_hash(plain), created_at=now))
        made.append(codes.shown_recovery_code(plain))
    session.flush()
    return made


def turn_on(session: Session, user: User, typed: str, now: datetime) -> list[str] | None:
    """Turn two-step sign-in on when ``typed`` is a current code of the secret being
    enrolled: the ten recovery codes to show once. None when the code is not right."""
    read = codes.read_code(typed)
    if read is None or read.kind != codes.TOTP or not _take_totp(session, user, read.value, now):
        return None
    user.totp_enabled_at = now
    return new_recovery_codes(session, user, now)


def turn_off(session: Session, user: User) -> None:
    """Forget the secret and the recovery codes: sign-in asks for the password alone."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def recovery_codes_left(session: Session, user: User) -> int:
    """How many of the user's recovery codes are still unused."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def required_for(user: User, settings: Settings) -> bool:
    """True when the practice requires two-step sign-in of ``user`` and it is not on."""
    applies = settings.two_step_for_everyone or (settings.two_step_for_admins and user.is_admin)
    return applies and user.totp_enabled_at is None
