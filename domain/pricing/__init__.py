"""Prices and previews.

- ``pricelist.PriceBook.at(now)`` -> ``PriceList``; ``PriceList.rate_for(...)`` -> ``Rate``.
- ``quote.Quote(price_list, tariff, month_volume).add(region, number_type, parts)``.
- ``preview.preview_messages(text, recipients, rules=..., ...)``: the whole preview.
"""
