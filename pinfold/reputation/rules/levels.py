"""How rates are judged (pure).

A rate is hard bounces or complaints over the sends of its window: bounces over the last 24 hours,
complaints over the last 7 days (complaints come in days after the mail; SES judges "over a rolling
24-hour to 7-day period depending on the metric type"). A rate is judged only once its window holds
`min_volume` sends, SES's "representative volume". Its level is REVIEW at or above the review rate
and PAUSE at or above the pause rate, the account-level levels AWS documents (bounce 5% and 10%,
complaint 0.1% and 0.5%).

Texts are judged the same way on their own metrics: the failure rate (texts that failed over texts
that ended, 24 hours; review 10%, pause 25%) and the opt-out rate (STOP replies over texts that
ended, 7 days; review 2%, pause 5%). AWS publishes no SMS levels; these are Pinfold's, high enough
that a healthy programme never meets them and low enough that carriers would not have acted first.

What a level does depends on the policy of what crossed it, SES's reputation policies: STRICT pauses
at any finding (REVIEW or PAUSE), STANDARD at a high-severity one (PAUSE), NONE never. An account is
paused at PAUSE for email, as AWS may do, and is under review (GetAccount's PROBATION) at REVIEW.
"""

from __future__ import annotations

from dataclasses import dataclass

NONE, REVIEW, PAUSE = "NONE", "REVIEW", "PAUSE"
ORDER = {NONE: 0, REVIEW: 1, PAUSE: 2}
THRESHOLDS = {"bounce": (0.05, 0.10), "complaint": (0.001, 0.005),  # (review, pause)
              "failure": (0.10, 0.25), "opt_out": (0.02, 0.05)}
DAY_HOURS, WEEK_HOURS = 24, 7 * 24
WINDOW_HOURS = {"bounce": DAY_HOURS, "complaint": WEEK_HOURS, "failure": DAY_HOURS, "opt_out": WEEK_HOURS}
# Each family's two metrics: the first counted over a day, the second over a week.
METRICS = {"email": ("bounce", "complaint"), "sms": ("failure", "opt_out")}
LONGEST_HOURS = max(WINDOW_HOURS.values())
POLICIES = ("STANDARD", "STRICT", "NONE")
SEVERITY = {REVIEW: "LOW", PAUSE: "HIGH"}


@dataclass
class Window:
    """A scope's sums over its windows: sends over a day and a week, its first metric's events over the
    day (bounces, failed texts) and its second's over the week (complaints, opt-outs)."""

    sends_day: int = 0
    sends_week: int = 0
    bounces: int = 0  # the first metric's events, over the day
    complaints: int = 0  # the second metric's, over the week

    def rates(self, family: str = "email") -> dict[str, tuple[float, int]]:
        """(rate, sends it is over) per metric of the family."""
        first, second = METRICS[family]
        return {first: (self.bounces / self.sends_day if self.sends_day else 0.0, self.sends_day),
                second: (self.complaints / self.sends_week if self.sends_week else 0.0, self.sends_week)}


def family_of(scope: str) -> str:
    return "sms" if scope.startswith("sms_") else "email"


def level(metric: str, rate: float, volume: int, min_volume: int) -> str:
    if volume < min_volume:
        return NONE
    review, pause = THRESHOLDS[metric]
    return PAUSE if rate >= pause else REVIEW if rate >= review else NONE


def pauses(policy: str, found: str) -> bool:
    """Whether a scope of `policy` is paused at level `found` (an account's policy is STANDARD)."""
    if policy == "STRICT":
        return found in (REVIEW, PAUSE)
    if policy == "STANDARD":
        return found == PAUSE
    return False


def higher(found: str, than: str) -> bool:
    return ORDER[found] > ORDER[than]


def check_policy(value: str) -> str:
    policy = (value or "").upper()
    if policy not in POLICIES:
        raise ValueError(f"a reputation policy is one of {', '.join(POLICIES)}")
    return policy
