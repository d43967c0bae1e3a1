module scopegotls

go 1.19
