"""The Kaifeng demo city, its component census and its simulation: never imported by the product."""
