"""A search as ``POST /v1/vector_stores/{id}/search`` (and the ``file_search`` tool) asks for it:
``query`` (a string or a list of them), ``max_num_results`` (1-50, default 10), ``filters`` on
attributes, ``ranking_options`` (``ranker``: ``none``, ``auto`` or ``default-2024-11-15``, which rank
alike here; ``score_threshold`` 0-1), ``rewrite_query``.

A query's words are its runs of letters and digits, lower-cased, as the index reads text; English
stopwords (``the``, ``is``, ``what``…) are left out of the search unless nothing else is left, as
search engines' English analyzers do. ``rewrite_query: true`` rewrites the query as the service does,
deterministically: those words, once each, joined by spaces; ``search_query`` shows the query searched
(the rewritten one, or the queries as given).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockfiles.core.errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter
from mockfiles.core.validation import check_range, json_type
from mockfiles.vector_stores.attributes import Filter, parse_filter
from mockfiles.vector_stores.index import WORDS
from mockfiles.vector_stores.params import known

RESULTS_DEFAULT, RESULTS_MAX = 10, 50
RANKERS = ("none", "auto", "default-2024-11-15")
SEARCH_FIELDS = ("query", "max_num_results", "filters", "ranking_options", "rewrite_query")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves""".split()
)


@dataclass(frozen=True)
class Search:
    queries: tuple[str, ...]  # what ``search_query`` shows
    terms: tuple[str, ...]  # the words searched for
    max_num_results: int = RESULTS_DEFAULT
    filters: Filter | None = None
    score_threshold: float = 0.0

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> Search:
        """A search's body (``vector_stores.search``, and the ``file_search`` tool's entry)."""
        known(body, SEARCH_FIELDS)
        queries = _queries(body.get("query"))
        limit = body.get("max_num_results", RESULTS_DEFAULT)
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidType("max_num_results", expected="an integer", got=json_type(limit))
        check_range(limit, "max_num_results", 1, RESULTS_MAX)
        filters = parse_filter(body["filters"]) if body.get("filters") is not None else None
        threshold = _ranking(body.get("ranking_options"))
        rewrite = body.get("rewrite_query", False)
        if not isinstance(rewrite, bool) and rewrite is not None:
            raise InvalidType("rewrite_query", expected="a boolean", got=json_type(rewrite))
        given = [w for q in queries for w in words(q)]
        terms = list(dict.fromkeys([w for w in given if w not in STOPWORDS] or given))
        if rewrite and terms:
            queries = [" ".join(terms)]
        return cls(tuple(queries), tuple(terms), limit, filters, threshold)


def words(text: str) -> list[str]:
    return [w.lower() for w in WORDS.findall(text)]


def _queries(value: object) -> list[str]:
    if value is None:
        raise MissingParameter("query")
    given = [value] if isinstance(value, str) else value
    if not isinstance(given, list):
        raise InvalidType("query", expected="a string or an array of strings", got=json_type(value))
    if not given:
        raise InvalidRequest("array_empty", param="query")
    for i, item in enumerate(given):
        param = "query" if isinstance(value, str) else f"query[{i}]"
        if not isinstance(item, str):
            raise InvalidType(param, expected="a string", got=json_type(item))
        if not item:
            raise InvalidRequest("empty_string", param=param)
    return list(given)


def _ranking(value: object) -> float:
    """``ranking_options``: its ranker checked, its score threshold (0 when none)."""
    if value is None:
        return 0.0
    if not isinstance(value, dict):
        raise InvalidType("ranking_options", expected="an object", got=json_type(value))
    known(value, ("ranker", "score_threshold"), "ranking_options")
    ranker = value.get("ranker")
    if ranker is not None and ranker not in RANKERS:
        raise InvalidValue("ranking_options.ranker", str(ranker), RANKERS)
    threshold = value.get("score_threshold", 0.0)
    if threshold is None:
        return 0.0
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise InvalidType("ranking_options.score_threshold", expected="a number", got=json_type(threshold))
    if not 0 <= threshold <= 1:
        reason = "decimal_below_minimum" if threshold < 0 else "decimal_above_maximum"
        raise InvalidRequest(reason, param="ranking_options.score_threshold", low=0, high=1, value=threshold)
    return float(threshold)
