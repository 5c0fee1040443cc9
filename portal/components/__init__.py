"""Pure UI functions: they take vars and return components, and never touch data."""
