"""Analytics over the event lake: named views, KPIs and SQL, confined to what each caller may see.

`engine` opens DuckDB over the lake for one caller, `views` holds the views' SQL, and `kpis`
computes daily KPIs and Pinpoint's GetApplicationDateRangeKpi from them.
"""
