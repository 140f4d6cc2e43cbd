"""``python -m search.settings``: print the README's configuration table."""

from search.settings.table import environment_table

print(environment_table())
