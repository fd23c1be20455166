module github.com/samtycke/samtycke

go 1.26
