"""Results framework: periods, indicator catalogue, aggregates and dashboards."""
