"""Typed errors. Library code raises these (``raise X(...) from err``); only ``api/`` maps them to HTTP."""

from __future__ import annotations


class FDAError(Exception):
    """Base class. ``hint`` says what the user can do about it."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg}\n  -> {self.hint}" if self.hint else msg


class ConfigError(FDAError):
    """Settings that cannot work (bad value, placeholder secret, missing path)."""


class CorpusError(FDAError):
    """The corpus source is missing, unreadable, or not a FastAPI docs tree."""

    hint = "Point --source (or FDA_CORPUS__SOURCES) at a FastAPI checkout, a release tarball, or a *.jsonl dump."


class StoreError(FDAError):
    """The DuckDB store is missing, locked, or corrupted."""

    hint = "Run `fda ingest` (or `make ingest`) to (re)build the store."


class GoldSetError(FDAError):
    """A gold row is malformed, duplicated, or points at a section that does not exist."""


class SealedSplitError(GoldSetError):
    """Something asked for a sealed split (v2's test) outside the logged confirm command."""


class IndexMissingError(FDAError):
    """A retrieval index has not been built or is corrupted."""

    hint = "Run `fda index` (or `make index`) to build it."


class SearchAccessError(ConfigError):
    """Azure AI Search refused the credentials: a wrong key, or an identity without the needed role."""


class SearchUnavailableError(FDAError):
    """Azure AI Search stayed throttled or busy (429/503) past the retries, timed out, or could not be reached."""

    hint = "Try again later, raise FDA_AZURE__SEARCH__RETRIES, or scale the service (replicas, partitions)."


class SectionNotFoundError(FDAError):
    """No docs section has that URL or chunk id (programs/tools/docs.py)."""

    hint = "Use a URL#anchor returned by search_docs (the docs' own URLs), or a chunk id from a citation."


class UnknownVersionError(FDAError):
    """A FastAPI docs version that was not ingested."""

    hint = "See `fda corpus stats` for the ingested versions."


class InvalidQuestionError(FDAError):
    """An empty, too long, or otherwise unusable question."""


class EvalError(FDAError):
    """An evaluation run cannot start or continue (unknown program, broken contract, bad resume, labels)."""

    hint = "See docs/evaluation.md for how runs, baselines and labels work."


class ApiError(FDAError):
    """The API cannot be reached, timed out, or answered with an error (seen from a client such as ui/)."""

    hint = "Start it with `fda serve` (or `make run`) and check FDA_UI__API_URL."


class LMError(FDAError):
    """The language model could not be set up or gave no usable answer (bad model file, broken server)."""

    hint = "See `fda models list`, then docs/lm.md; FDA_LM__MODEL picks the model."


class LMTimeoutError(LMError):
    """The language model did not answer within the timeout."""

    hint = "Raise FDA_LM__TIMEOUT_S, lower FDA_LM__MAX_TOKENS, or pick a smaller model (local:qwen2.5-coder-0.5b)."


class LMUnavailableError(LMError):
    """The language model cannot be reached: model files missing, local server down, provider unreachable."""

    hint = "Run `make models` (local models), or check FDA_LM__MODEL / FDA_LM__API_BASE and the provider's key."


class CompileError(FDAError):
    """A compile run cannot start or finish (empty or invalid split, optimizer crash, registry trouble)."""

    hint = "See docs/compile.md for how compile runs, the registry and promotion work."


class ManifestMismatchError(CompileError):
    """A compiled program was built for another corpus, index or program than the one being served."""

    hint = "Recompile against the current index (`fda compile ...`), or promote a matching version."


class SandboxUnavailableError(FDAError):
    """This machine cannot isolate a process (no ``unshare``, or namespaces are not permitted), so an answer's
    code is not run at all (programs/execution/sandbox.py)."""

    hint = (
        "Run the service as root or where unprivileged user namespaces are allowed "
        "(sysctl kernel.unprivileged_userns_clone=1), or set FDA_CODE__EXECUTE=false."
    )


class SandboxBusyError(FDAError):
    """Every sandbox slot of this process stayed taken while a code check waited for one."""

    hint = "Ask again: the code checks of other answers were still running."


class FinetuneError(FDAError):
    """A fine-tuning stage cannot go on: no data, no base model, a corrupt checkpoint or adapter."""
