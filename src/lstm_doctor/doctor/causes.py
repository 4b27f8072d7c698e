"""The differential diagnosis: which findings explain which, and the primary cause(s).

A colleague looking at unscaled inputs, vanishing gradients, a flat loss and a model that
loses to seasonal naive says "one cause, unscaled inputs; the rest follow from it". The
links below say which finding can produce which: data problems explain training symptoms,
a step size explains what the curves and gradients do, curve symptoms explain the test
result. A finding no other (warning or worse) finding explains is a primary cause. Links
only run from an earlier level to a later one, so the graph has no cycles and every
symptom traces back to at least one primary cause.
"""

from __future__ import annotations

from lstm_doctor.doctor.findings import Finding

# What the test result shows: the end of every chain.
RESULTS = (
    "train.no_better_than_naive",
    "train.no_better_than_linear",
    "train.majority_class",
)
CURVES = (
    "train.not_learning",
    "train.slow_convergence",
    "train.oscillating",
    "train.diverged",
    "train.underfitting",
    "train.overfitting",
)
GRADIENTS = ("train.exploding_gradients", "train.vanishing_gradients")

# cause -> the findings it can produce. Levels: data (0), step size (1), gradients (2),
# curves (3), results (4); a link always goes to a later level or, within curves, from
# the training curve to what the validation curve and the test result then show.
EXPLAINS: dict[str, tuple[str, ...]] = {
    # Inputs on wildly different scales saturate the gates (vanishing), make the gradients
    # huge for a large target (too large a step for SGD), stall or shake the curves.
    "data.unscaled_features": (
        "train.step_too_large", "train.step_too_small", *GRADIENTS, *CURVES, *RESULTS,
    ),
    # A NaN in a batch makes the loss NaN: everything after it is noise.
    "data.missing_values": ("train.exploding_gradients", *CURVES, *RESULTS),
    # Spikes that dominate the squared error pull the gradients and shake the loss.
    "data.outliers": (
        "train.exploding_gradients", "train.oscillating", "train.diverged",
        "train.underfitting", *RESULTS,
    ),
    # A window that cannot see one season back cannot beat a seasonal lookup.
    "data.window_shorter_than_season": ("train.underfitting", *RESULTS),
    # Levels the model never saw: validation loss parts from training, the test score drops.
    "data.distribution_shift": ("train.overfitting", "train.underfitting", *RESULTS),
    # Too few independent examples: memorised, noisy validation, nothing general learned.
    "data.too_few_windows": (
        "train.overfitting", "train.oscillating", "train.not_learning", "train.underfitting",
        "train.wasted_epochs", *RESULTS,
    ),
    # The class shares are a strong answer to settle on: a model may learn only them.
    "data.class_imbalance": (
        "train.not_learning", "train.majority_class", "train.no_better_than_linear",
    ),
    # A target its inputs do not inform (a user's own arrays): nothing to learn, whatever
    # the curves do on the way.
    "data.no_signal": (
        "train.not_learning", "train.slow_convergence", "train.oscillating",
        "train.underfitting", "train.overfitting", "train.wasted_epochs", *RESULTS,
    ),
    # Step size, seen in the update/weight ratio.
    "train.step_too_small": (
        "train.vanishing_gradients", "train.not_learning", "train.slow_convergence",
        "train.underfitting", *RESULTS,
    ),
    # Weights thrown about (saturating the gates too): the validation loss climbs, which is
    # not memorising.
    "train.step_too_large": (
        "train.exploding_gradients", "train.vanishing_gradients", "train.not_learning",
        "train.oscillating", "train.diverged", "train.underfitting", "train.overfitting",
        "train.wasted_epochs", *RESULTS,
    ),
    # Gradients.
    "train.exploding_gradients": (
        "train.diverged", "train.oscillating", "train.overfitting", "train.wasted_epochs",
        *RESULTS,
    ),
    "train.vanishing_gradients": (
        "train.not_learning", "train.slow_convergence", "train.underfitting", *RESULTS,
    ),
    # Curves: what the training curve did explains what the test result shows.
    "train.diverged": RESULTS,
    "train.not_learning": ("train.underfitting", *RESULTS),
    "train.slow_convergence": ("train.underfitting", *RESULTS),
    "train.oscillating": ("train.underfitting", *RESULTS),
    "train.underfitting": RESULTS,
    # Not wasted_epochs: training on with early stopping off is a cause of its own.
    "train.overfitting": RESULTS,
    # Losing to a lookup says the model learned nothing; losing to a fitted line follows.
    "train.no_better_than_naive": ("train.no_better_than_linear",),
    "train.majority_class": ("train.no_better_than_linear",),
}  # fmt: skip

# Primary causes are said in this order: the data before the configuration before what the
# curves show (fix the inputs first, then look again).
ORDER = ("data.", "train.step_", "train.exploding", "train.vanishing", "train.", "model.")


def serious(finding: Finding) -> bool:
    """Warnings and errors take part in the differential; notes neither cause nor follow."""
    return finding.severity in ("warning", "error")


def link(findings: list[Finding]) -> list[str]:
    """Set each serious finding's `explained_by` (the serious findings present that can
    produce it) and return the primary causes, most fundamental first."""
    present = {f.code for f in findings if serious(f)}
    for finding in findings:
        finding.explained_by = (
            sorted(c for c in present if finding.code in EXPLAINS.get(c, ()))
            if serious(finding)
            else []
        )
    primary = [f for f in findings if serious(f) and not f.explained_by]
    return [f.code for f in sorted(primary, key=_rank)]


def _rank(finding: Finding) -> tuple[int, int]:
    level = next((i for i, prefix in enumerate(ORDER) if finding.code.startswith(prefix)), 99)
    return (0 if finding.severity == "error" else 1, level)


def explained_symptoms(findings: list[Finding], cause: str) -> list[Finding]:
    """The serious findings that follow from `cause`, directly or through another symptom."""
    reached, frontier = set(), {cause}
    while frontier:
        code = frontier.pop()
        for f in findings:
            if code in f.explained_by and f.code not in reached:
                reached.add(f.code)
                frontier.add(f.code)
    return [f for f in findings if f.code in reached]
