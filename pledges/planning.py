"""The weekly payout plan: which payer sends how much to which recipient.

A pure, deterministic function with no database: the services feed it a week's pledges
and enrollments and store what it returns. What it promises, in this order:

1. Nobody gets more than they need and no payer is asked for more than they pledged;
   every transfer is a positive whole number of cents.
2. Every recipient gets the full amount when the pledges allow. When they fall short,
   the shortfall is concentrated: recipients are funded in the order given (the pod's
   slot order), so at most one is partly funded and the rest are either paid in full or
   visibly unfunded. Shortfalls are never hidden by underpaying everyone a little.
3. Nobody is asked to pay twice: transfers already made for the week (its receipts) are
   kept first, up to what was sent, wherever the pledges and needs allow.
4. Relationships last: last week's transfers are kept, with their amounts, wherever this
   week's pledges and needs still allow them, so a payer keeps paying the same recipient
   while nothing changes.
5. Few transfers: the payers and recipients joined by transfers always form a forest, so
   there are never more than payers + recipients - 1 transfers, and a payer is split
   between two recipients only when the payers after them could not cover what is left.

Work is done in integer cents: no rounding can creep in, and it is fast (a thousand
payers and a hundred recipients take about ten milliseconds; see benchmarks/plan.py).
"""

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

CENT = Decimal("0.01")


class Transfer(NamedTuple):
    payer: Hashable
    recipient: Hashable
    amount: Decimal


@dataclass(frozen=True)
class Plan:
    transfers: tuple[Transfer, ...]
    # Only the recipients who get less than they need, with how much less.
    shortfalls: dict

    @property
    def total(self) -> Decimal:
        return sum((t.amount for t in self.transfers), Decimal("0.00"))


def plan_week(
    *,
    pledges: Iterable[tuple[Hashable, Decimal]],
    needs: Iterable[tuple[Hashable, Decimal]],
    previous: Iterable[tuple[Hashable, Hashable, Decimal]] = (),
    sent: Iterable[tuple[tuple[Hashable, Hashable], Decimal]] = (),
) -> Plan:
    """Match `pledges` (payer, weekly amount) to `needs` (recipient, amount needed).

    `needs` is in priority order: when pledges fall short, the first recipients are paid
    in full and the shortfall falls on the last ones. `previous` is last week's transfers
    (payer, recipient, amount), kept where possible; payers or recipients no longer
    present are ignored. `sent` is what was already sent this week ((payer, recipient),
    amount): those pairs are planned first, up to that amount. A payer listed twice
    pledges the sum. Ties are broken by the order of the inputs, so pass them in a
    stable order.
    """
    capacity: dict[Hashable, int] = {}
    for payer, amount in pledges:
        capacity[payer] = capacity.get(payer, 0) + _cents(amount, "pledge")
    need: dict[Hashable, int] = {}
    for recipient, amount in needs:
        if recipient in need:
            raise ValueError(f"Recipient {recipient!r} is listed twice.")
        need[recipient] = _cents(amount, "need")

    payers = list(capacity)
    recipients = list(need)
    payer_index = {payer: i for i, payer in enumerate(payers)}
    recipient_index = {recipient: j for j, recipient in enumerate(recipients)}
    cap = [capacity[payer] for payer in payers]

    # What each recipient will get: the full need in priority order while pledges last.
    supply = sum(cap)
    target = []
    for recipient in recipients:
        share = min(need[recipient], supply)
        target.append(share)
        supply -= share
    rem = list(target)

    # Transfers being built, by (payer index, recipient index); insertion order is
    # priority when breaking cycles below: kept transfers first, then new ones.
    flow: dict[tuple[int, int], int] = {}

    def give(i, j, cents):
        flow[i, j] = flow.get((i, j), 0) + cents
        cap[i] -= cents
        rem[j] -= cents

    # 0. What was already sent this week stays planned, so that "this week" never asks a
    # payer who already paid one recipient to pay another one instead.
    for (payer, recipient), amount in sent:
        i, j = payer_index.get(payer), recipient_index.get(recipient)
        if i is not None and j is not None:
            share = min(_cents(amount, "sent amount"), cap[i], rem[j])
            if share > 0:
                give(i, j, share)

    # 1. Keep last week's transfers, biggest first (they carry the most of a recipient's
    # need), up to last week's amount; then let those same pairs absorb any change (a
    # raised pledge, a co-payer who left) before anyone new is brought in.
    kept: dict[tuple[int, int], int] = {}
    for payer, recipient, amount in previous:
        i, j = payer_index.get(payer), recipient_index.get(recipient)
        if i is not None and j is not None:
            kept[i, j] = kept.get((i, j), 0) + _cents(amount, "previous transfer")
    order = sorted(kept, key=lambda pair: -kept[pair])
    for i, j in order:
        # Less what was sent already on this pair (step 0), which counts toward it.
        share = min(kept[i, j] - flow.get((i, j), 0), cap[i], rem[j])
        if share > 0:
            give(i, j, share)
    for i, j in order:
        share = min(cap[i], rem[j])
        if share > 0:
            give(i, j, share)

    # 2. Fill what is left: biggest pledges first, each to the recipient who still needs
    # the most (which spreads the big pledges so that each recipient needs few payers).
    # Payers already paying someone come last, since any transfer for them is a split.
    used = {i for i, _j in flow}
    fresh = sorted((i for i in range(len(payers)) if cap[i] and i not in used), key=_biggest(cap))
    again = sorted((i for i in used if cap[i]), key=_biggest(cap))
    open_needs = [(-rem[j], j) for j in range(len(recipients)) if rem[j]]
    heapq.heapify(open_needs)
    needed = sum(rem)
    rest = sum(cap[i] for i in fresh) + sum(cap[i] for i in again)
    for i in fresh + again:
        if not needed:
            break
        rest -= cap[i]
        splitting = i in used
        while cap[i] and open_needs:
            # A second recipient for this payer only if the payers after them cannot
            # cover what is still needed; otherwise they are simply asked for less.
            if splitting and needed <= rest:
                break
            _neg, j = heapq.heappop(open_needs)
            share = min(cap[i], rem[j])
            give(i, j, share)
            needed -= share
            if rem[j]:
                heapq.heappush(open_needs, (-rem[j], j))
            splitting = True

    flow = _forest(flow, len(payers))

    transfers = tuple(
        Transfer(payers[i], recipients[j], Decimal(cents) * CENT)
        for (i, j), cents in sorted(flow.items(), key=lambda item: (item[0][1], item[0][0]))
    )
    received = [0] * len(recipients)
    for (_i, j), cents in flow.items():
        received[j] += cents
    shortfalls = {
        recipient: Decimal(need[recipient] - received[j]) * CENT
        for j, recipient in enumerate(recipients)
        if received[j] < need[recipient]
    }
    return Plan(transfers=transfers, shortfalls=shortfalls)


def _cents(amount, what) -> int:
    if isinstance(amount, float) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"A {what} must be a Decimal, not {type(amount).__name__}.")
    cents = Decimal(amount) * 100
    if cents <= 0 or cents != cents.to_integral_value():
        raise ValueError(f"A {what} must be a positive whole number of cents, not {amount}.")
    return int(cents)


def _biggest(cap):
    return lambda i: (-cap[i], i)


def _forest(flow: dict[tuple[int, int], int], payer_count: int) -> dict[tuple[int, int], int]:
    """The same totals per payer and per recipient, with no cycle of transfers.

    A cycle (A pays X and Y, B pays X and Y) is never needed: shifting money around it
    until one of its transfers reaches zero keeps every total and saves a transfer.
    Without cycles the transfers form a forest, hence at most payers + recipients - 1.
    Transfers are added in priority order; on a cycle, the money shifts away from the
    transfer being added, so kept transfers are the last to go.

    Nodes are payer indexes, then recipient indexes shifted by `payer_count`.
    """
    parent: dict[int, int] = {}

    def find(node):
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:
            parent[node], node = root, parent.get(node, node)
        return root

    def key(a, b):
        return (a, b - payer_count) if a < payer_count else (b, a - payer_count)

    tree: dict[tuple[int, int], int] = {}
    neighbours: dict[int, set[int]] = {}

    def link(a, b, cents):
        tree[key(a, b)] = cents
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)

    def unlink(a, b):
        del tree[key(a, b)]
        neighbours[a].discard(b)
        neighbours[b].discard(a)

    for (i, j), cents in flow.items():
        payer, recipient = i, payer_count + j
        root_p, root_r = find(payer), find(recipient)
        if root_p != root_r:
            parent[root_p] = root_r
            link(payer, recipient, cents)
            continue
        # The union-find only ever over-reports connections (transfers dropped below
        # may split a tree), so look for the actual path before calling it a cycle.
        path = _path(neighbours, recipient, payer)
        if path is None:
            link(payer, recipient, cents)
            continue
        # The new transfer loses δ; going around the cycle from the recipient, the path's
        # transfers alternately gain and lose δ, so every node's total stays the same.
        steps = list(zip(path, path[1:], strict=False))
        losing = [cents] + [tree[key(a, b)] for a, b in steps[1::2]]
        delta = min(losing)
        for n, (a, b) in enumerate(steps):
            tree[key(a, b)] += delta if n % 2 == 0 else -delta
        for a, b in steps[1::2]:
            if tree[key(a, b)] == 0:
                unlink(a, b)
        if cents > delta:
            link(payer, recipient, cents - delta)
    return tree


def _path(neighbours, start, goal):
    """The nodes from `start` to `goal` in the forest, or None if not connected."""
    came_from = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            # Sorted: the same forest always gives the same path, hence the same plan.
            for other in sorted(neighbours.get(node, ())):
                if other in came_from:
                    continue
                came_from[other] = node
                if other == goal:
                    path = [goal]
                    while came_from[path[-1]] is not None:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                following.append(other)
        frontier = following
    return None
