module github.com/leakwatch/leakwatch

go 1.26.8
