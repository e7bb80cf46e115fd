"""The forecast's pure arithmetic (NumPy, no database): roll rates, the vectorised claim
formula, the Monte Carlo over loans and the analytical expectation."""
