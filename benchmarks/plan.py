"""How long the weekly plan takes for a big pod: 1,000 donors and 100 recipients.

Run from the project root: `.venv/bin/python benchmarks/plan.py`. A benchmark, not a
test: timings depend on the machine, so nothing here fails; it prints the numbers.
"""

import random
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pledges.planning import plan_week  # noqa: E402

DONORS = 1_000
RECIPIENTS = 100
WEEKLY_AMOUNT = Decimal("175.00")
RUNS = 50


def pod(seed, *, scale=Decimal("1")):
    """Pledges shaped like a real pod's: mostly round amounts, a few odd ones."""
    rng = random.Random(seed)
    amounts = [Decimal(a) for a in ("5", "10", "10", "15", "20", "20", "25", "25", "50")]
    pledges = []
    for donor in range(DONORS):
        if rng.random() < 0.9:
            amount = rng.choice(amounts)
        else:
            amount = Decimal(rng.randint(100, 6000)) / 100  # an odd amount, such as 12.34
        pledges.append((donor, max((amount * scale).quantize(Decimal("0.01")), Decimal("0.01"))))
    needs = [(10_000 + r, WEEKLY_AMOUNT) for r in range(RECIPIENTS)]
    return pledges, needs


def timed(label, **kwargs):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        plan = plan_week(**kwargs)
        times.append(time.perf_counter() - start)
    payers = Counter(t.payer for t in plan.transfers)
    single = sum(1 for n in payers.values() if n == 1)
    print(
        f"{label:<44} median {statistics.median(times) * 1000:7.2f} ms, "
        f"worst {max(times) * 1000:7.2f} ms | {len(plan.transfers)} transfers, "
        f"{single}/{len(payers)} payers pay one recipient, "
        f"{len(plan.shortfalls)} recipients short"
    )
    return plan


def main():
    pledges, needs = pod(1)
    supply = sum(amount for _d, amount in pledges)
    print(
        f"{DONORS} donors pledging {supply} a week; {RECIPIENTS} recipients needing "
        f"{WEEKLY_AMOUNT} each ({WEEKLY_AMOUNT * RECIPIENTS}); {RUNS} runs each"
    )
    first = timed("first week (no previous plan)", pledges=pledges, needs=needs)
    timed("next week, nothing changed", pledges=pledges, needs=needs, previous=first.transfers)
    changed = list(pledges)
    rng = random.Random(2)
    for index in rng.sample(range(DONORS), 50):
        changed[index] = (changed[index][0], Decimal(rng.randint(1, 60)))
    swapped = needs[5:] + [(20_000 + r, WEEKLY_AMOUNT) for r in range(5)]
    timed(
        "50 pledges changed, 5 recipients replaced",
        pledges=changed,
        needs=swapped,
        previous=first.transfers,
    )
    short_pledges, _needs = pod(3, scale=Decimal("0.5"))
    timed("pledges cover about half the need", pledges=short_pledges, needs=needs)


if __name__ == "__main__":
    main()
