module github.com/pricefn/pricefn/cluster

go 1.26.0
