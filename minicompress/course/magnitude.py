"""Exercises of tutorial 07 (magnitude pruning): PyTorch's pruning rule (compute_mask, with its
amount and tie rules) and Zhu & Gupta's polynomial sparsity schedule (TF-MOT's PolynomialDecay)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, Failure, random_cases
from minicompress.course.exercise import Exercise
from minicompress.pruning import PolynomialDecay, compute_mask


def mask_cases():
    s = np.array([0.5, -1.0, 2.0, 0.1, 3.0])
    edge = [Case("edge: an int amount", dict(scores=s, amount=2, mask=None)),
            Case("edge: a fraction, round(0.3 · 5) = 2", dict(scores=s, amount=0.3, mask=None)),
            Case("edge: a fraction, round(0.5 · 5) = round(2.5) = 2 (half to even)",
                 dict(scores=s, amount=0.5, mask=None)),
            Case("edge: round(0.7 · 5) = round(3.5) = 4", dict(scores=s, amount=0.7, mask=None)),
            Case("edge: ties, the lower flat index goes first", dict(scores=np.array([[1.0, 0.0], [0.0, 0.0]]),
                                                                   amount=2, mask=None)),
            Case("edge: an existing mask; the fraction is of the unpruned entries",
                 dict(scores=np.array([0.1, 0.2, 5.0, 4.0, 3.0, 6.0]), amount=0.5,
                      mask=np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0]))),
            Case("edge: a masked entry with a high score stays masked",
                 dict(scores=np.array([9.0, 1.0, 2.0]), amount=1, mask=np.array([0.0, 1.0, 1.0]))),
            Case("edge: amount 1.0 deletes every entry", dict(scores=np.arange(4.0), amount=1.0, mask=None)),
            Case("edge: amount 0", dict(scores=np.arange(4.0), amount=0, mask=np.array([1.0, 0.0, 1.0, 1.0])))]
    return edge + random_cases(_mask_inputs)


def _mask_inputs(r):
    shape = tuple(r.integers(1, 5, size=2))
    scores = np.round(r.normal(size=shape), 1)  # rounded: ties happen
    mask = (r.random(shape) < 0.7).astype(float) if r.random() < 0.5 else None
    unpruned = int(np.sum(mask)) if mask is not None else scores.size
    amount = float(r.choice([0.2, 0.25, 0.5, 0.75, 0.9])) if r.random() < 0.6 else int(r.integers(0, unpruned + 1))
    return dict(scores=scores, amount=amount, mask=mask)


def mask_properties(case, expected, received):
    received = np.asarray(received)
    mask = case.inputs["mask"]
    if not np.all((received == 0) | (received == 1)):
        raise Failure("0/1", f"a mask holds only 0 and 1, received {np.unique(received)}")
    if mask is not None and np.any(received[np.asarray(mask) == 0] != 0):
        where = np.argwhere((np.asarray(mask) == 0) & (received != 0))[0].tolist()
        raise Failure("masked entry came back", f"entry {where} was already pruned (mask 0) and must stay 0")
    if np.sum(received == 0) != np.sum(expected == 0):
        unpruned = int(mask.sum()) if mask is not None else expected.size
        raise Failure("count", f"expected {int(np.sum(expected == 0))} zeros in the new mask "
                               f"(amount {case.inputs['amount']!r} of {unpruned} unpruned entries, plus the "
                               f"{expected.size - unpruned} already pruned), received {int(np.sum(received == 0))}")


def polynomial_sparsity(step, initial, final, begin, end, power):
    """The library's PolynomialDecay(...).sparsity(step)."""
    return PolynomialDecay(initial, final, begin, end, power).sparsity(step)


def schedule_cases():
    base = dict(initial=0.0, final=0.9, begin=100, end=1100, power=3)
    edge = [Case(f"edge: step {step}", dict(step=step, **base)) for step in (100, 1100, 600, 50, 5000)]
    edge.append(Case("edge: linear (power 1), from 0.5", dict(step=300, initial=0.5, final=0.8, begin=0, end=1000, power=1)))
    return edge + random_cases(lambda r: dict(step=int(r.integers(0, 3000)), initial=float(r.uniform(0, 0.5)),
                                              final=float(r.uniform(0.5, 0.99)), begin=int(r.integers(0, 500)),
                                              end=int(r.integers(600, 2500)), power=float(r.choice([1, 2, 3, 0.5]))))


EXERCISES = [
    Exercise(
        name="compute_mask", tutorial="07_magnitude_pruning",
        title="Magnitude pruning's mask with PyTorch's amount rule",
        statement="""
Implement compute_mask(scores, amount, mask) -> new_mask (torch.nn.utils.prune's rules):
delete (set to 0) the `count` lowest-scoring entries among those still unpruned.

    amount an int:          count = amount
    amount a float in [0,1]: count = round(amount · n_unpruned)   (Python's round: half to even)
    ties:                   the lower flat (C-order) index is deleted first
    mask (0/1 array of scores' shape, or None = all ones): only its 1-entries are candidates;
                            the new mask is the old one with `count` more zeros

scores: any shape, real; returns a float64 array of scores' shape holding 0.0 and 1.0.
""",
        stub='''
import numpy as np

def compute_mask(scores, amount, mask=None):
    """scores (any shape), amount int or float, mask (0/1, scores' shape) or None -> new mask."""
    raise NotImplementedError
''',
        hint="Flatten; take the indices of the unpruned entries; np.argsort(..., kind='stable') "
             "keeps equal scores in index order. round(2.5) is 2 in Python.",
        reference=compute_mask, cases=mask_cases, properties=mask_properties),
    Exercise(
        name="polynomial_sparsity", tutorial="07_magnitude_pruning",
        title="Zhu & Gupta's gradual pruning schedule",
        statement="""
Implement polynomial_sparsity(step, initial, final, begin, end, power) -> s (Zhu & Gupta 2017,
Eq. 1; TF-MOT's PolynomialDecay):

    p = (step − begin) / (end − begin), clipped to [0, 1]
    s = s_f + (s_i − s_f) · (1 − p)^power

so s = s_i up to `begin`, s = s_f from `end` on, and it rises fast at first, slowly at the end.
step, begin < end: ints; initial s_i, final s_f in [0, 1]; power > 0. Returns a float.
""",
        stub='''
def polynomial_sparsity(step, initial, final, begin, end, power):
    """The target sparsity at ``step`` (a float)."""
    raise NotImplementedError
''',
        hint="Clip p before taking the power; (1 − p)^power is 1 at the beginning and 0 at the end.",
        reference=polynomial_sparsity, cases=schedule_cases, rtol=1e-9, atol=1e-12),
]
