"""Finance's CSV files as German Excel reads them: ``;`` and the decimal comma, and a
Content-Type that names its charset once."""

from __future__ import annotations

import csv
import io

from tests.support.api import ApiHarness


def test_the_trial_balance_and_journal_csv_use_decimal_commas(api: ApiHarness) -> None:
    customer = api.register()
    assert api.topup(customer, 12_345, "csv-1").status_code == 201
    api.catch_up()
    for path in ("/v1/finance/trial-balance", "/v1/finance/journal"):
        response = api.client.get(path, params={"format": "csv"}, headers=api.finance)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.text), delimiter=";"))
        amounts = [cell for row in rows[1:] for cell in row[-2:] if cell]
        assert amounts
        assert all("," in cell and "." not in cell for cell in amounts), amounts
        if path.endswith("journal"):
            assert "1,2345" in amounts  # the top-up's net credit
