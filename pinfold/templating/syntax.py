"""Pinpoint's Handlebars dialect, read: the tokenizer and parser that turn a template into the tree
that templating/engine.py compiles into closures. Errors name the line and column. The tokenizer
and the recursive-descent parser share their position bookkeeping, so they stay in one module."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from pinfold.core.errors import InvalidInput
from pinfold.templating.helpers import HELPERS

MAX_NESTING = 64
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": None}
_ID = r"[^\s!\"#%-,./;->@\[-\^`{-~]+"
_ID_RE = re.compile(_ID)
_SEGMENT_LITERAL = re.compile(r"\[([^\]]*)\]")
_HASH_KEY = re.compile(rf"({_ID})\s*=")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?=[~}\s)])")
_STRING = re.compile(r'"((?:\\.|[^"\\])*)"|\'((?:\\.|[^\'\\])*)\'')
_SPACE = re.compile(r"\s*")
_ELSE = re.compile(r"else(?=[\s~}])")
_STANDALONE = frozenset({"open", "inline", "close", "else", "caret", "comment", "partial"})


class TemplateError(InvalidInput):
    """A template that cannot be compiled or rendered; the message names the line/column or the helper."""


# --- the parse tree -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Path:
    text: str  # as written, e.g. User.UserAttributes.[Last Name].[0]
    segments: tuple[str, ...]
    data: bool = False  # @index, @root.x
    parents: int = 0  # ../
    scoped: bool = False  # this or ./: no lookup in enclosing contexts


@dataclass(slots=True)
class _Literal:
    value: Any


@dataclass(slots=True)
class _Call:
    name: str
    params: list
    hash: dict
    offset: int


@dataclass(slots=True)
class _Text:
    value: str
    line_start: bool


@dataclass(slots=True)
class _Tag:
    kind: str  # mustache raw open inline close else caret comment partial
    offset: int
    strip_left: bool
    strip_right: bool = False
    tokens: list = field(default_factory=list)


@dataclass(slots=True)
class _Block:
    call: _Call
    program: list = field(default_factory=list)
    inverse: list | None = None


@dataclass(slots=True)
class _Partial:
    name: str
    context: Any
    hash: dict
    offset: int


# --- tokenizer ----------------------------------------------------------------------------------------------


class _Source:
    """The template text and a way to name a position in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines = [i for i, char in enumerate(text) if char == "\n"]

    def where(self, offset: int) -> str:
        line = bisect.bisect_left(self._lines, offset)
        column = offset - (self._lines[line - 1] + 1 if line else 0)
        return f"line {line + 1}, column {column + 1}"

    def error(self, offset: int, message: str) -> TemplateError:
        return TemplateError(f"Template error at {self.where(offset)}: {message}")


def _tokenize(source: _Source) -> list:
    """Text and tags in order; \\{{ is literal text up to the next {{, \\\\{{ a backslash and then a tag."""
    text, out, pieces, position, piece_start = source.text, [], [], 0, 0
    while (start := text.find("{{", position)) >= 0:
        backslash = start > position and text[start - 1] == "\\"
        if backslash and not (start - 1 > position and text[start - 2] == "\\"):
            following = text.find("{{", start + 2)
            if following < 0:
                following = len(text)
            elif text[following - 1] == "\\":  # the next mustache is escaped too
                following -= 1
            pieces += [text[position : start - 1], text[start:following]]
            position = following
            continue
        pieces.append(text[position : start - 1] if backslash else text[position:start])
        if "".join(pieces):
            out.append(_Text("".join(pieces), piece_start == 0))
        tag, position = _read_tag(source, start)
        out.append(tag)
        pieces, piece_start = [], position
    pieces.append(text[position:])
    if "".join(pieces):
        out.append(_Text("".join(pieces), piece_start == 0))
    return out


_SIGILS = (("#*", "inline"), ("#>", None), ("#", "open"), ("/", "close"), ("^", "caret"), (">", "partial"),
           ("&", "raw"), ("{", None))


def _read_tag(source: _Source, start: int) -> tuple[_Tag, int]:
    text, at = source.text, start + 2
    triple = text.startswith("{", at)
    at += triple
    strip_left = text.startswith("~", at)
    at += strip_left
    if not triple and text.startswith("!", at):
        long_form = text.startswith("!--", at)
        end = re.compile(r"--(~?)}}" if long_form else r"(~?)}}").search(text, at)
        if end is None:
            raise source.error(start, "the comment is never closed")
        return _Tag("comment", start, strip_left, bool(end[1])), end.end()
    kind = "raw" if triple else "mustache"
    if not triple:
        sigil = next(((mark, name) for mark, name in _SIGILS if text.startswith(mark, at)), None)
        if sigil is not None and sigil[1] is None:
            raise source.error(start, f"'{{{{{sigil[0]}' (partial blocks and raw blocks) is not supported")
        if sigil is not None:
            kind, at = sigil[1], at + len(sigil[0])
        elif keyword := _ELSE.match(text, _SPACE.match(text, at).end()):
            kind, at = "else", keyword.end()
    tag = _Tag(kind, start, strip_left)
    tag.tokens, at, tag.strip_right = _lex(source, at, start, "}}}" if triple else "}}")
    return tag, at


def _lex(source: _Source, at: int, start: int, close: str) -> tuple[list, int, bool]:
    """The tokens of one tag's expression: ("(" | ")" | "lit" | "key" | "path", value, offset)."""
    text, tokens = source.text, []
    while True:
        at = _SPACE.match(text, at).end()
        if at >= len(text):
            raise source.error(start, f"the tag is never closed with '{close}'")
        for ending, strip in (("~" + close, True), (close, False)):
            if text.startswith(ending, at):
                return tokens, at + len(ending), strip
        char = text[at]
        if char in "()":
            tokens.append((char, None, at))
            at += 1
        elif found := _STRING.match(text, at):
            raw = found[1] if found[1] is not None else found[2]
            tokens.append(("lit", re.sub(r"\\(.)", r"\1", raw), at))
            at = found.end()
        elif found := _NUMBER.match(text, at):
            tokens.append(("lit", float(found[0]) if "." in found[0] else int(found[0]), at))
            at = found.end()
        elif found := _HASH_KEY.match(text, at):
            tokens.append(("key", found[1], at))
            at = found.end()
        else:
            path, end = _lex_path(source, at)
            simple = not (path.data or path.parents or path.scoped) and len(path.segments) == 1
            if simple and path.text in _KEYWORDS:
                tokens.append(("lit", _KEYWORDS[path.text], at))
            else:
                tokens.append(("path", path, at))
            at = end


def _segment(text: str, at: int) -> tuple[str, int] | None:
    found = _SEGMENT_LITERAL.match(text, at) or _ID_RE.match(text, at)
    if found is None:
        return None
    return (found[1] if found[0].startswith("[") else found[0]), found.end()


def _lex_path(source: _Source, start: int) -> tuple[_Path, int]:
    """this, ., .., ./a, ../a, a.b/c, a.[Last Name].[0], @index, @root.a."""
    text, at = source.text, start
    path = _Path("", (), data=text.startswith("@", at))
    at += path.data
    while text.startswith(("../", "./"), at):
        path.parents += text.startswith("../", at)
        path.scoped = True
        at += 3 if text.startswith("../", at) else 2
    segments = []
    if text.startswith("..", at) and _segment(text, at + 2) is None:
        path.parents, path.scoped, at = path.parents + 1, True, at + 2
    elif text.startswith(".", at) and _segment(text, at + 1) is None:
        path.scoped, at = True, at + 1
    else:
        first = _segment(text, at)
        if first is None:
            if at >= len(text):  # '{{../' at the very end
                raise source.error(start, "the tag is never closed with '}}'")
            raise source.error(start, f"unexpected {text[at]!r} in the tag")
        if first[0] == "this" and text[at] != "[" and not path.data:
            path.scoped = True
        else:
            segments.append(first[0])
        at = first[1]
        while at < len(text) and text[at] in "./" and (following := _segment(text, at + 1)) is not None:
            segments.append(following[0])
            at = following[1]
    if path.data and (path.parents or not segments):
        raise source.error(start, "only @index, @first, @last, @key and @root.<path> are supported")
    path.text, path.segments = text[start:at], tuple(segments)
    return path, at


# --- whitespace: standalone lines and ~ ---------------------------------------------------------------------


def _blank_before(token: Any) -> bool:
    if token is None:
        return True
    if not isinstance(token, _Text):
        return False
    cut = token.value.rfind("\n")
    return token.value[cut + 1 :].strip(" \t") == "" and (cut >= 0 or token.line_start)


def _blank_after(token: Any, last: bool) -> bool:
    if token is None:
        return True
    if not isinstance(token, _Text):
        return False
    head, newline, _ = token.value.partition("\n")
    return head.strip(" \t\r") == "" and (bool(newline) or last)


def _trim_whitespace(tokens: list) -> None:
    """A block, else, comment or partial tag alone on its line takes the line with it; ~ strips whitespace."""
    for index, tag in enumerate(tokens):
        if not isinstance(tag, _Tag):
            continue
        before = tokens[index - 1] if index > 0 else None
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        if tag.kind in _STANDALONE and _blank_before(before) and _blank_after(after, index + 2 >= len(tokens)):
            if before is not None:
                before.value = before.value[: before.value.rfind("\n") + 1]
            if after is not None:
                after.value = after.value.partition("\n")[2]
                after.line_start = True
        if tag.strip_left and isinstance(before, _Text):
            before.value = before.value.rstrip()
        if tag.strip_right and isinstance(after, _Text):
            after.value = after.value.lstrip()


# --- parser: tags to a tree ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Mustache:
    expression: Any
    raw: bool


@dataclass(slots=True)
class _Frame:
    tag: _Tag
    node: Any  # the _Block being filled, or an inline partial's name
    body: list
    chained: bool  # an {{else if ...}} block, closed by its parent's closing tag


def _helper_name(path: _Path) -> str | None:
    simple = not (path.data or path.parents or path.scoped) and len(path.segments) == 1
    return path.segments[0] if simple and path.text == path.segments[0] else None


def _argument(source: _Source, tokens: list, index: int, depth: int) -> tuple[Any, int]:
    if index >= len(tokens):
        raise source.error(tokens[-1][2], "a value is missing after '='")
    kind, value, offset = tokens[index]
    if kind == "lit":
        return _Literal(value), index + 1
    if kind == "path":
        return value, index + 1
    if kind != "(":
        raise source.error(offset, f"unexpected {'hash argument' if kind == 'key' else repr(kind)}")
    if depth >= MAX_NESTING:
        raise source.error(offset, "subexpressions nest too deeply")
    head = tokens[index + 1] if index + 1 < len(tokens) else None
    if head is None or head[0] != "path":
        raise source.error(offset, "a subexpression starts with a helper name: (helper args...)")
    name = _helper_name(head[1])
    if name not in HELPERS:
        raise source.error(head[2], f"unknown helper '{head[1].text}'")
    params, hash, end = _arguments(source, tokens, index + 2, depth + 1)
    if end >= len(tokens):
        raise source.error(offset, "the subexpression is never closed with ')'")
    return _Call(name, params, hash, head[2]), end + 1


def _arguments(source: _Source, tokens: list, index: int, depth: int) -> tuple[list, dict, int]:
    """Positional then hash arguments, up to a ')' or the end of the tag."""
    params, hash = [], {}
    while index < len(tokens) and tokens[index][0] != ")":
        kind, value, offset = tokens[index]
        if kind == "key":
            hash[value], index = _argument(source, tokens, index + 1, depth)
            continue
        if hash:
            raise source.error(offset, "positional arguments come before hash arguments (name=value)")
        argument, index = _argument(source, tokens, index, depth)
        params.append(argument)
    return params, hash, index


def _expression(source: _Source, tag: _Tag) -> Any:
    """A tag's content: a helper call, a variable, or a literal."""
    tokens = tag.tokens
    if not tokens:
        raise source.error(tag.offset, "the tag is empty")
    head = tokens[0]
    params, hash, end = _arguments(source, tokens, 1, 0)
    if end != len(tokens):
        raise source.error(tokens[end][2], "unexpected ')'")
    if head[0] == "lit" and not params and not hash:
        return _Literal(head[1])
    if head[0] != "path":
        raise source.error(head[2], "a tag starts with a helper name or a variable")
    name = _helper_name(head[1])
    if name in HELPERS:
        return _Call(name, params, hash, head[2])
    if params or hash or tag.kind in ("open", "else"):
        raise source.error(head[2], f"unknown helper '{head[1].text}'")
    return head[1]


def _block_call(source: _Source, tag: _Tag) -> _Call:
    expression = _expression(source, tag)
    if not isinstance(expression, _Call):
        raise source.error(tag.offset, "a block starts with a helper name: {{#helper args...}}")
    if not HELPERS[expression.name].block:
        raise source.error(expression.offset, f"'{expression.name}' cannot be used as a block")
    return expression


def _partial(source: _Source, tag: _Tag) -> _Partial:
    tokens = tag.tokens
    kind, value, offset = tokens[0] if tokens else (None, None, tag.offset)
    name = value.text if kind == "path" else value if kind == "lit" and isinstance(value, str) else None
    if not name:
        raise source.error(tag.offset, "a partial needs a name: {{> name}}")
    params, hash, end = _arguments(source, tokens, 1, 0)
    if end != len(tokens) or len(params) > 1:
        raise source.error(offset, "a partial takes at most one context argument")
    return _Partial(name, params[0] if params else None, hash, offset)


def _inline_name(source: _Source, tag: _Tag) -> str:
    tokens = tag.tokens
    if len(tokens) == 2 and tokens[0][0] == "path" and tokens[0][1].text == "inline" and tokens[1][0] == "lit":
        if isinstance(tokens[1][1], str) and tokens[1][1]:
            return tokens[1][1]
    raise source.error(tag.offset, 'the only decorator is an inline partial: {{#* inline "name"}}')


def _open_else(source: _Source, tag: _Tag, frames: list[_Frame]) -> list:
    if tag.kind == "caret" and tag.tokens:
        raise source.error(tag.offset, "inverted sections ({{^name}}) are not supported; use {{#if}}...{{else}}")
    if not frames or not isinstance(frames[-1].node, _Block):
        raise source.error(tag.offset, "{{else}} outside a block")
    frame, block = frames[-1], frames[-1].node
    if block.inverse is not None:
        raise source.error(tag.offset, "a block has only one {{else}}")
    block.inverse = []
    if not tag.tokens:
        frame.body = block.inverse
        return block.inverse
    chained = _Block(_block_call(source, tag))  # {{else if x}}: a block inside the {{else}}
    block.inverse.append(chained)
    frames.append(_Frame(tag, chained, chained.program, True))
    return chained.program


def _close(source: _Source, tag: _Tag, frames: list[_Frame], partials: dict) -> None:
    tokens = tag.tokens
    if len(tokens) != 1 or tokens[0][0] != "path":
        raise source.error(tag.offset, "a closing tag names its block: {{/name}}")
    name = tokens[0][1].text
    while frames and frames[-1].chained:
        frames.pop()
    if not frames:
        raise source.error(tag.offset, f"'{{{{/{name}}}}}' closes no block")
    frame = frames.pop()
    opened = frame.node.call.name if isinstance(frame.node, _Block) else "inline"
    if name != opened:
        raise source.error(tag.offset, f"'{{{{/{name}}}}}' does not close '{{{{#{opened}}}}}' "
                                       f"opened at {source.where(frame.tag.offset)}")
    if opened == "inline":
        if frame.node in partials:
            raise source.error(frame.tag.offset, f"the inline partial '{frame.node}' is defined twice")
        partials[frame.node] = frame.body


def _build(source: _Source, tokens: list) -> tuple[list, dict[str, list]]:
    """The node tree (text, _Mustache, _Block, _Partial) and the inline partials' bodies by name."""
    root: list = []
    partials: dict[str, list] = {}
    frames: list[_Frame] = []
    for token in tokens:
        target = frames[-1].body if frames else root
        if isinstance(token, _Text):
            if token.value:
                target.append(token.value)
        elif token.kind in ("mustache", "raw"):
            expression = _expression(source, token)
            if isinstance(expression, _Call) and not HELPERS[expression.name].inline:
                name = expression.name
                raise source.error(token.offset, f"'{name}' is a block helper: {{{{#{name} ...}}}}...{{{{/{name}}}}}")
            target.append(_Mustache(expression, token.kind == "raw"))
        elif token.kind == "partial":
            target.append(_partial(source, token))
        elif token.kind == "open":
            block = _Block(_block_call(source, token))
            target.append(block)
            frames.append(_Frame(token, block, block.program, False))
        elif token.kind == "inline":
            frames.append(_Frame(token, _inline_name(source, token), [], False))
        elif token.kind in ("else", "caret"):
            _open_else(source, token, frames)
        elif token.kind == "close":
            _close(source, token, frames, partials)
        if len(frames) > MAX_NESTING:
            raise source.error(token.offset, "blocks nest too deeply")
    if frames:
        opener = next(frame for frame in reversed(frames) if not frame.chained)
        name = opener.node.call.name if isinstance(opener.node, _Block) else "inline"
        raise source.error(opener.tag.offset, f"'{{{{#{name}}}}}' is never closed with '{{{{/{name}}}}}'")
    return root, partials


def parse(source: str) -> tuple[_Source, list, dict[str, list]]:
    """The source (for error positions), its node tree and its inline partials' bodies by name."""
    text = _Source(source)
    tokens = _tokenize(text)
    _trim_whitespace(tokens)
    nodes, bodies = _build(text, tokens)
    return text, nodes, bodies
