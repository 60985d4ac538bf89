"""The message text engine: what a text costs in parts and how it is sent.

- ``template.Template.compile(text).render(fields)``: personalisation (``{field|default}``).
- ``compose.compose(template, fields, normalize_text=...)``: render, normalise, measure.
- ``segments.measure(text)`` / ``segments.segment(text)``: encoding, units, parts.
- ``parts.encode_parts(text, reference)``: the SMPP payloads (UDH + body) per part.
- ``smart.suggest_replacements(text)`` / ``smart.normalize(text)``: smart characters.
- ``sender.SenderId.parse(raw)``: sender ID rules.
"""
