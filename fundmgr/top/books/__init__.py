"""A fund's books as one Excel workbook, both ways (台账导入导出, capability 13).

`layout` declares the sheets and columns once (headers, units, allowed values, the 说明 sheet);
`workbook` writes the export, the empty template and the annotated copy of a faulty file;
`reader` reads an uploaded file strictly and in constant memory; `checks` validates every row
through the owning apps' rules and, on import, writes through their import services;
`services` is what the command, the admin pages and the tasks call.
"""
