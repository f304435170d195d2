"""Pure geospatial core of Gufei Exchange: coordinates, boundaries, road/rail networks, cost matrices."""

from geo.admin import Location, Place, find_place, locate, locate_many, places, prefecture_places
from geo.coords import METRIC_CRS, from_wgs84, in_service_area, project, to_wgs84
from geo.costs import CostMatrix, RouteResult, cost_index_pairs, cost_matrix, cost_pairs, route
from geo.errors import OutOfRegionError, UnknownPlaceError
from geo.network import RoadNetwork, road_km_matrix, within_road_km
from geo.rates import CATEGORY_FREIGHT_CLASS, FREIGHT_CLASSES, FreightRates

__all__ = [
    "CATEGORY_FREIGHT_CLASS",
    "FREIGHT_CLASSES",
    "METRIC_CRS",
    "CostMatrix",
    "FreightRates",
    "Location",
    "OutOfRegionError",
    "Place",
    "RoadNetwork",
    "RouteResult",
    "UnknownPlaceError",
    "cost_index_pairs",
    "cost_matrix",
    "cost_pairs",
    "find_place",
    "from_wgs84",
    "in_service_area",
    "locate",
    "locate_many",
    "places",
    "prefecture_places",
    "project",
    "road_km_matrix",
    "route",
    "to_wgs84",
    "within_road_km",
]
