"""Search spaces: the lowest layer, shared by `blackbox_repository` and `methods`."""

from searchspace.domains import Categorical, Domain, Float, Grid, Integer, Ordinal, domain_from_json
from searchspace.errors import SearchSpaceError
from searchspace.space import Config, SearchSpace

__all__ = [
    "Categorical",
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
