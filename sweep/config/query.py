"""``--where`` queries: a small grammar of data, never code.

A query is parsed with :mod:`ast` and only these forms are accepted:

- column names of the results (parameters and outcomes; not the list
  columns), and the literals ``true``, ``false`` and ``null`` (also
  ``True``, ``False``, ``None``);
- numbers and quoted strings;
- comparisons ``== != < <= > >=`` (chains such as ``0.1 < lr <= 1`` too),
  ``in [..]`` and ``not in [..]`` with a list of literals, ``x == null`` and
  ``x != null``;
- ``and``, ``or``, ``not`` and parentheses;
- arithmetic ``+ - * / % **`` and unary ``-``.

Anything else (attribute access, subscripts, calls, other names, lambdas,
comprehensions, bit operators) is refused with one line naming the part.
The query becomes a :class:`pyarrow.compute.Expression`, the same one
whether it filters a DataFrame in memory or parts as they are read; a
comparison with a missing value (a null) is false, as in SQL.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.acero as acero
import pyarrow.compute as pc

from ..errors import ConfigError
from .axes import not_a_column

_LITERALS = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}
_COMPARE: dict[type, Callable] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC: dict[type, Callable] = {
    ast.Add: pc.add_checked,
    ast.Sub: pc.subtract_checked,
    ast.Mult: pc.multiply_checked,
    ast.Mod: lambda a, b: pc.subtract(a, pc.multiply(pc.floor(pc.divide(a, b)), b)),
    ast.Pow: pc.power,
    ast.Div: lambda a, b: pc.divide(_float(a), _float(b)),
}
_SYMBOL = {
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.Invert: "~",
    ast.Is: "is",
    ast.IsNot: "is not",
}
GRAMMAR = (
    "column names, numbers, 'strings', true/false/null, comparisons, and/or/not, "
    "+ - * / % ** and in [...]"
)


def _float(x):
    return x.cast(pa.float64())


class _Compiler:
    """Turns an accepted syntax tree into an Arrow expression (ConfigError otherwise)."""

    def __init__(self, text: str, schema: pa.Schema):
        self.text = text
        self.schema = schema
        self.columns: set[str] = set()

    def refuse(self, node: ast.AST, why: str):
        part = ast.get_source_segment(self.text, node) or type(node).__name__
        raise ConfigError("where", f"{part!r} is not allowed ({why}); a query holds {GRAMMAR}")

    def literal(self, node: ast.AST):
        """The Python value of a literal node (a number, string, true/false/null)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
            return node.value
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        if isinstance(node, ast.Name) and node.id in _LITERALS:
            return _LITERALS[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.literal(node.operand)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
        self.refuse(node, "expected a number, a string, true, false or null")

    def is_literal(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) or (
            isinstance(node, ast.Name) and node.id in _LITERALS
        )

    def value(self, node: ast.AST):
        if isinstance(node, ast.Name):
            if node.id in _LITERALS:
                return pc.scalar(_LITERALS[node.id])
            field = self.schema.field(node.id) if node.id in self.schema.names else None
            if field is None:
                self.refuse(node, not_a_column(node.id, self.schema.names))
            if pa.types.is_list(field.type):
                self.refuse(node, "a list column; compare single values")
            self.columns.add(node.id)
            return pc.field(node.id)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float, str, bool)) or node.value is None:
                return pc.scalar(node.value)
            self.refuse(node, "not a number or a string")
        if isinstance(node, ast.BoolOp):
            combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            out = self.value(node.values[0])
            for more in node.values[1:]:
                out = combine(out, self.value(more))
            return out
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ~self.value(node.operand)
            if isinstance(node.op, ast.USub):
                return pc.negate_checked(self.value(node.operand))
            if isinstance(node.op, ast.UAdd):
                return self.value(node.operand)
            self.refuse(node, f"the operator {_SYMBOL.get(type(node.op), '?')}")
        if isinstance(node, ast.BinOp):
            apply = _ARITHMETIC.get(type(node.op))
            if apply is None:
                self.refuse(node, f"the operator {_SYMBOL.get(type(node.op), '?')}")
            return apply(self.value(node.left), self.value(node.right))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        kinds = {
            ast.Attribute: "attribute access",
            ast.Subscript: "subscripts",
            ast.Call: "calls",
            ast.Lambda: "lambdas",
            ast.List: "a list outside in [...]",
            ast.Tuple: "a tuple outside in [...]",
        }
        self.refuse(node, kinds.get(type(node), "not part of the query grammar"))

    def compare(self, node: ast.Compare):
        out = None
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                    self.refuse(right, "in takes a list of values: in [1, 2]")
                values = [self.literal(v) for v in right.elts]
                self.same_kind(left, values)
                if self.kind(left) == "bool":  # 1 and 0 as pandas takes them
                    values = [v if v is None else bool(v) for v in values]
                test = self.value(left).isin(_array(values))
                test = ~test if isinstance(op, ast.NotIn) else test
            elif type(op) in _COMPARE:
                for column, other in ((left, right), (right, left)):
                    if self.is_literal(other):
                        self.same_kind(column, [self.literal(other)])
                test = self.null_test(left, op, right)
                if test is None:
                    lhs, rhs = self.operand(left, right), self.operand(right, left)
                    test = _COMPARE[type(op)](lhs, rhs)
            else:
                self.refuse(node, f"the operator {_SYMBOL.get(type(op), '?')}")
            out = test if out is None else out & test
            left = right
        return out

    def kind(self, node: ast.AST) -> str | None:
        """``number``, ``text`` or ``bool`` for a column of the results, else None."""
        if not (isinstance(node, ast.Name) and node.id in self.schema.names):
            return None
        kind = self.schema.field(node.id).type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return "number"
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return "text"
        return "bool" if pa.types.is_boolean(kind) else None

    def same_kind(self, column: ast.AST, values: list) -> None:
        """A column compared with literals of another kind (a number with text, text
        with a number, true/false with anything but 0 and 1): one line naming both
        (other mismatches Arrow finds as it filters)."""
        kind = self.kind(column)
        for v in values:
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            wrong = {
                "number": isinstance(v, str),
                "text": numeric,
                "bool": isinstance(v, str) or (numeric and v not in (0, 1)),
            }
            if kind is not None and v is not None and wrong[kind]:
                held = {"number": "numbers", "text": "text", "bool": "true/false"}[kind]
                given = "text" if isinstance(v, str) else "a number"
                raise ConfigError("where", f"{column.id} holds {held}, and {v!r} is {given}")

    def operand(self, node: ast.AST, other: ast.AST):
        """``node``'s value, a 1 or 0 compared with a true/false column as true or false
        (as pandas takes them)."""
        if self.is_literal(node) and self.kind(other) == "bool":
            return pc.scalar(bool(self.literal(node)))
        return self.value(node)

    def null_test(self, left: ast.AST, op: ast.cmpop, right: ast.AST):
        """``x == null`` / ``x != null`` as null tests (None: not such a comparison)."""
        for side, other in ((right, left), (left, right)):
            if self.is_literal(side) and self.literal(side) is None:
                if not isinstance(op, (ast.Eq, ast.NotEq)):
                    self.refuse(side, "null compares only with == and !=")
                value = self.value(other)
                return value.is_null() if isinstance(op, ast.Eq) else value.is_valid()
        return None


def _array(values: list) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise ConfigError("where", f"the values of in [...] mix kinds: {values!r}") from None


def parse(where: str, schema: pa.Schema) -> tuple[pc.Expression, set[str]]:
    """The query ``where`` over columns of ``schema`` as an Arrow expression, and the
    columns it reads; ConfigError (one line, naming the part) if it is not one."""
    text = where.strip()
    if not text:
        raise ConfigError("where", "is empty")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ConfigError("where", f"not a query ({e.msg}): {where!r}") from None
    compiler = _Compiler(text, schema)
    expression = compiler.value(tree.body)
    return expression, compiler.columns


def select(table: pa.Table, expression: pc.Expression) -> pa.Table:
    """The rows of ``table`` for which ``expression`` holds; ConfigError if the query
    does not fit the columns' types.

    In the calling thread: Arrow's thread pool, once started, can abort the
    process as the interpreter exits (apache/arrow#34314), and one part's rows
    are too few to gain from it."""
    plan = acero.Declaration.from_sequence(
        [
            acero.Declaration("table_source", acero.TableSourceNodeOptions(table)),
            acero.Declaration("filter", acero.FilterNodeOptions(expression)),
        ]
    )
    try:
        return plan.to_table(use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        reason = str(e).splitlines()[0]
        raise ConfigError("where", f"does not fit the columns' types ({reason})") from None


def mask(table: pa.Table, expression: pc.Expression) -> np.ndarray:
    """Which rows of ``table`` satisfy ``expression`` (nulls: no); ConfigError if the
    query does not fit the columns' types."""
    index = "__row__"
    numbered = table.append_column(index, pa.array(np.arange(table.num_rows)))
    kept = select(numbered, expression).column(index).to_numpy()
    out = np.zeros(table.num_rows, dtype=bool)
    out[kept] = True
    return out


def columns_of(where: str | None, schema: pa.Schema) -> set[str]:
    """The columns a query reads (none without a query)."""
    return set() if not where else parse(where, schema)[1]


def where_mask(frame, where: str, schema: pa.Schema) -> np.ndarray:
    """Which rows of the DataFrame ``frame`` satisfy ``where`` (a boolean array)."""
    expression, used = parse(where, schema)
    missing = sorted(used - set(frame.columns))
    if missing:
        raise ConfigError("where", f"no column {missing[0]!r} among those read")
    columns = {
        name: pa.Array.from_pandas(frame[name], type=schema.field(name).type)
        for name in sorted(used)
    }
    table = pa.table(columns) if columns else pa.table({"_": np.zeros(len(frame))})
    return mask(table, expression)
