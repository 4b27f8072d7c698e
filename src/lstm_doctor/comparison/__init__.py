"""Layer 1: runs judged against each other: which runs are one configuration
(`run_groups`), every run scored on the targets all of them share (`common_targets`), the
seed-noise call (`significance`: Welch, Holm, no p from zero spread), configurations
summarised over seeds and judged against a baseline (`judging`), a fix chosen on validation
and confirmed once on test (`selection`), and the comparison as an HTML page (`page`)."""

LAYER = 1
