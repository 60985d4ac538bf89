"""Recipients' phone numbers and the rules per destination country.

- ``parser.PhoneNumberParser().parse(raw)`` -> ``number.PhoneNumber`` (fast for E.164 input).
- ``destinations.DestinationRules.check(number, sender, registered_senders)``.
"""
