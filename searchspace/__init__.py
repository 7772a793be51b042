"""Search spaces: the lowest layer, shared by `blackbox_repository` and `methods`."""

from searchspace.conditions import Condition
from searchspace.domains import Categorical, Domain, Float, Grid, Integer, Ordinal, domain_from_json
from searchspace.errors import SearchSpaceError
from searchspace.space import INACTIVE_COORDINATE, Config, SearchSpace

__all__ = [
    "INACTIVE_COORDINATE",
    "Categorical",
    "Condition",
    "Config",
    "Domain",
    "Float",
    "Grid",
    "Integer",
    "Ordinal",
    "SearchSpace",
    "SearchSpaceError",
    "domain_from_json",
]
