"""Backup passwords: not guessable by zxcvbn's estimate (score 3 of 4 or better: over 10^8
guesses), and either at least 8 characters with upper case, lower case and a digit, or a long
passphrase (at least 16 characters that zxcvbn scores 4, e.g. five diceware words) without the
composition rule, as NIST SP 800-63B recommends. No override.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zxcvbn import zxcvbn

from seedguard.errors import PasswordPolicyError

MIN_LENGTH = 8
MIN_SCORE = 3
PASSPHRASE_LENGTH = 16  # from here on, a very strong passphrase needs no composition rule
PASSPHRASE_SCORE = 4
ZXCVBN_MAX = 72  # zxcvbn's own limit; a longer password is judged by its first 72 characters
LABELS = ("very weak", "weak", "fair", "strong", "very strong")


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    guesses_log10: float
    warning: str
    suggestions: tuple[str, ...]

    @property
    def label(self) -> str:
        return LABELS[self.score]

    def feedback(self) -> tuple[str, ...]:
        return tuple(x for x in (self.warning, *self.suggestions) if x)


def estimate(password: str, user_inputs: Sequence[str] = ()) -> Strength:
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[w for w in user_inputs if w][:64])
    feedback = result.get("feedback", {})
    return Strength(
        score=int(result["score"]),
        guesses_log10=float(result["guesses_log10"]),
        warning=str(feedback.get("warning") or ""),
        suggestions=tuple(str(s) for s in feedback.get("suggestions", [])),
    )


def rule_problems(password: str) -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    return problems


def check(
    password: str, user_inputs: Sequence[str] = (), what: str = "backup password"
) -> Strength:
    """The strength of an acceptable new password; PasswordPolicyError says what to change."""
    strength = estimate(password, ["seedguard", "backup", "wallet", *user_inputs])
    long_and_strong = len(password) >= PASSPHRASE_LENGTH and strength.score >= PASSPHRASE_SCORE
    problems = rule_problems(password)
    if problems and not long_and_strong:
        raise PasswordPolicyError(
            f"The {what} needs " + ", ".join(problems) + f", or to be a passphrase of at least "
            f"{PASSPHRASE_LENGTH} characters that is very hard to guess (five random words); "
            "choose another.",
            ("Five unrelated random words, or several words with a digit and a capital.",),
        )
    if strength.score < MIN_SCORE:
        hint = " ".join(strength.feedback()) or "Add another uncommon word or two."
        raise PasswordPolicyError(
            f"The {what} is too easy to guess ({strength.label}, "
            f"about 10^{strength.guesses_log10:.0f} guesses): {hint}",
            strength.feedback(),
        )
    return strength
