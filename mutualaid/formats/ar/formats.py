# Django's Arabic formats leave the date with a time to the English defaults ("m/d/Y P",
# so that 3 December reads as 12 March), and write numbers with a decimal comma while
# CLDR (Babel, which writes and reads every amount, see mutualaid/money.py) writes
# "1,970.00": a number that a page shows, or puts in a field, would not read back.
DATETIME_FORMAT = "j F، Y، g:i A"
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y g:i A"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
