"""Why an import is refused: every failing category at once, led by the one Optimize would name."""

from dataclasses import dataclass, field
from typing import Any

from contracts.errors import IMPORT_ERROR_PRIORITY, ErrorCode, ServiceError


@dataclass(frozen=True)
class ImportProblem:
    """One failing category: its code, what to tell the user, and the fields naming what is wrong."""

    code: ErrorCode
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    # Where it stands in Optimize's order when its code is not an import category (badRequestError).
    ranked_as: ErrorCode | None = None

    def body(self) -> dict[str, Any]:
        return {"errorCode": self.code.value, "errorMessage": self.message, **self.details}


class ImportRefused(ServiceError):
    """The import is refused; the top-level code is the highest-priority problem, `errors` lists all."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        if not problems:
            raise ValueError("an import is refused for at least one problem")
        self.problems = sorted(problems, key=lambda problem: IMPORT_ERROR_PRIORITY.index(
            problem.ranked_as or problem.code))
        lead = self.problems[0]
        detailed = " ".join(problem.message for problem in self.problems)
        super().__init__(lead.code, lead.message, detailed, **lead.details,
                         errors=[problem.body() for problem in self.problems])


def file_invalid(validation_errors: list[dict]) -> ImportProblem:
    count = len(validation_errors)
    first = validation_errors[0]
    where = f" at {first['path']}" if first.get("path") else ""
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return ImportProblem(
        ErrorCode.IMPORT_FILE_INVALID,
        f"The import file is invalid: {first['message'].rstrip('.')}{where}{more}.",
        {"validationErrors": validation_errors},
    )


def index_version_mismatch(mismatching_indices: list[dict]) -> ImportProblem:
    named = ", ".join(
        f"{index['indexName']} {index['sourceIndexVersion']} (this installation reads up to "
        f"{index['targetIndexVersion']})"
        for index in mismatching_indices
    )
    return ImportProblem(
        ErrorCode.IMPORT_INDEX_VERSION_MISMATCH,
        f"Could not import because source and target index versions do not match: {named}.",
        {"mismatchingIndices": mismatching_indices},
    )
