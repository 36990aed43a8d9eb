module racefree/gobench

go 1.19
