"""What every web page and JSON route of the hub shares: security headers, origins, errors."""
