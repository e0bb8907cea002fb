"""Small-cell suppression, so that no published figure describes fewer than k respondents.

The rule (README, "Statistics"; Hundepool et al. 2012, ch. 5), with k the survey's threshold:

1. Primary: a group with 1 ≤ respondents < k is suppressed.
2. A group with 0 respondents has nothing to hide and is never suppressed.
3. Complementary: while the suppressed groups together hold between 1 and k − 1 respondents, also
   suppress the smallest shown non-empty group (ties broken by key in string order), so that the
   total minus the shown groups only reveals a group of at least k. If no shown non-empty group is
   left, stop: then every respondent is hidden, and the caller must also hide the total when it is
   below k (``report.analyse`` does).

The same rule is applied to branches within a survey and to category cells within a branch.
"""

from __future__ import annotations

from collections.abc import Mapping


def suppressed(sizes: Mapping[str, int], threshold: int) -> frozenset[str]:
    """Keys to suppress: primary (1 ≤ n < k), then complementary (Hundepool et al. 2012, ch. 5)."""
    for key, size in sizes.items():
        if size < 0:
            raise ValueError(f"group {key!r} has a negative size {size}")
    hidden = {key for key, size in sizes.items() if 1 <= size < threshold}
    hidden_total = sum(sizes[key] for key in hidden)
    while 1 <= hidden_total < threshold:
        candidates = [key for key, size in sizes.items() if size > 0 and key not in hidden]
        if not candidates:
            break
        smallest = min(candidates, key=lambda key: (sizes[key], key))
        hidden.add(smallest)
        hidden_total += sizes[smallest]
    return frozenset(hidden)
