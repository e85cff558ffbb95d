// Package layers holds no code, only a test: that linkarc's packages import
// each other downward only, along the arrows of the package map (see the
// table in layers_test.go). The blob store imports nothing of linkarc, the
// archive format imports only the store, the viewer and the resolver never
// import the pipeline or the fetcher, and nothing imports cmd.
package layers
