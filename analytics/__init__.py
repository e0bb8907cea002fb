"""Ceping's statistics: pure functions from count tables to frozen dataclasses.

Only numpy, scipy and the standard library are imported here; the web layer (``survey/``) turns
ORM rows into counts before calling ``analyse`` or ``compare``. Every statistic is computed from
counts, so the cost grows with the number of cells, not with the number of responses. Undefined
statistics are ``None``, never NaN, and results hold plain Python numbers.
"""

from analytics.headline import BranchHeadline
from analytics.omnibus import (
    ChiSquare,
    KruskalWallis,
    MannWhitney,
    chi_square,
    kruskal_wallis,
    mann_whitney,
)
from analytics.proportions import (
    holm,
    newcombe_difference,
    two_by_two_p,
    wilson,
    wilson_interval,
)
from analytics.reliability import alpha_band, cronbach_alpha
from analytics.report import (
    BranchResult,
    CategoryResult,
    Comparison,
    Composite,
    Headline,
    ItemTests,
    Scale,
    Summary,
    SurveyAnalysis,
    SurveyComparison,
    SurveyCounts,
    VsRest,
    analyse,
    compare,
    headline,
)
from analytics.scores import mean_interval
from analytics.suppression import suppressed
from analytics.weighting import Weighted, post_stratified

__all__ = [
    "BranchHeadline",
    "BranchResult",
    "CategoryResult",
    "ChiSquare",
    "Comparison",
    "Composite",
    "Headline",
    "ItemTests",
    "KruskalWallis",
    "MannWhitney",
    "Scale",
    "Summary",
    "SurveyAnalysis",
    "SurveyComparison",
    "SurveyCounts",
    "VsRest",
    "Weighted",
    "alpha_band",
    "analyse",
    "chi_square",
    "compare",
    "cronbach_alpha",
    "headline",
    "holm",
    "kruskal_wallis",
    "mann_whitney",
    "mean_interval",
    "newcombe_difference",
    "post_stratified",
    "suppressed",
    "two_by_two_p",
    "wilson",
    "wilson_interval",
]
