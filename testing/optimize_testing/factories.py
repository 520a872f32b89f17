"""Small factories and checks the cross-service tests share."""


def ok(response, status=200):
    """The JSON body of a Flask test response that has `status`; fails the test with the body otherwise."""
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json(silent=True)


def process_report(report_id: str, key: str = "invoice") -> dict:
    """A current single process report of an export file, reading version 1 of `key` without tenants."""
    return {"id": report_id, "exportEntityType": "single_process_report", "name": f"Report {report_id}",
            "description": None, "sourceIndexVersion": 11, "collectionId": None,
            "data": {"definitions": [{"identifier": "d", "key": key, "versions": ["1"],
                                      "tenantIds": [None]}],
                     "configuration": {}, "filter": [], "view": None, "groupBy": None,
                     "visualization": "number", "managementReport": False, "instantPreviewReport": False}}
