// A Go program for scope's tests and bench, built with Debian's golang-go at their time
// (test/apps/gotls.test.ts, bench/src/gohttp.ts):
//
//	cert DIR                 a self-signed certificate for 127.0.0.1 (DIR/cert.pem, DIR/key.pem)
//	serve CERT KEY           an https server on 127.0.0.1 (its port on stdout) until stdin ends
//	get URL CA h1|h2         POSTs "ping from go" to URL, prints the protocol, status and body
//	both h1|h2 CERT KEY CA   the server and one request to it, in one process
//	page PORT [tls]          a 1 KiB page on 127.0.0.1:PORT, over TLS with a certificate made now
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func makeCert(dir string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	check(err)
	kb, err := x509.MarshalECPrivateKey(key)
	check(err)
	check(os.WriteFile(dir+"/cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0644))
	check(os.WriteFile(dir+"/key.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0600))
}

func server(cert, key string) (net.Listener, *http.Server) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "served %s %s %q\n", r.Method, r.URL.Path, body)
	})}
	go srv.ServeTLS(ln, cert, key)
	return ln, srv
}

func get(url, ca, proto string) string {
	pemBytes, err := os.ReadFile(ca)
	check(err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: proto == "h2"}
	if proto == "h1" {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	resp, err := (&http.Client{Transport: tr}).Post(url, "text/plain", strings.NewReader("ping from go"))
	check(err)
	b, err := io.ReadAll(resp.Body)
	check(err)
	resp.Body.Close()
	return fmt.Sprintf("%s %d %s", resp.Proto, resp.StatusCode, b)
}

func main() {
	switch os.Args[1] {
	case "cert":
		makeCert(os.Args[2])
	case "serve":
		ln, _ := server(os.Args[2], os.Args[3])
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		io.Copy(io.Discard, os.Stdin)
	case "get":
		fmt.Print(get(os.Args[2], os.Args[3], os.Args[4]))
	case "page":
		page := []byte(strings.Repeat("<p>hello from go</p>\n", 50))
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write(page) })
		addr := "127.0.0.1:" + os.Args[2]
		if len(os.Args) < 4 {
			check(http.ListenAndServe(addr, nil))
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		check(err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		check(err)
		ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
		check(err)
		check(http.Serve(ln, nil))
	case "both":
		ln, _ := server(os.Args[3], os.Args[4])
		fmt.Print(get(fmt.Sprintf("https://127.0.0.1:%d/both", ln.Addr().(*net.TCPAddr).Port), os.Args[5], os.Args[2]))
	}
}
