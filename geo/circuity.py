"""Circuity factors (network distance ÷ great-circle distance) used where no published length exists."""

# Ballou, Rahardja & Sakai (2002), "Selected country circuity factors for road and rail network
# analysis", Journal of Business Logistics 23(1):145–155, report road factors of roughly 1.1–1.4
# by country (about 1.2 on average). Heilongjiang's network is sparse outside the
# Harbin–Daqing–Qiqihar corridor, so we take 1.25.
ROAD_CIRCUITY = 1.25

# Ballou et al. (2002) give rail factors of about 1.1–1.2 for whole trips. Our station-to-station
# chords already follow each line, so the low end, 1.10, is applied to every chord.
RAIL_CIRCUITY = 1.10
