// A JVM that asks itself over TLS, for scope's tests and bench (test/apps/javatls.test.ts,
// bench/src/javatls.ts), compiled at their time:
//
//   java TlsSelf demo KEYSTORE        an HttpsServer, a POST to it with the HttpClient and one with
//                                     HttpsURLConnection, each answer printed; also 200 000 tries
//                                     of a null's length (the JVM's implicit null checks: SIGSEGV)
//   java TlsSelf load KEYSTORE SECS   GETs with the HttpClient (HTTP/1.1, one connection) for SECS
//                                     seconds after 300 to warm up; prints requests per second
//   java TlsSelf pair KEYSTORE        two POSTs at once with one HttpClient (HTTP/1.1: two
//                                     connections to the one server), each answer printed
//
// KEYSTORE: PKCS12, password "changeit", a key for 127.0.0.1 (keytool -genkeypair).
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.util.concurrent.Executors;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class TlsSelf {
  public static void main(String[] a) throws Exception {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    char[] pw = "changeit".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(a[1])) {
      ks.load(in, pw);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
    kmf.init(ks, pw);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    HttpsServer srv = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    srv.setHttpsConfigurator(new HttpsConfigurator(ctx));
    srv.createContext("/", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      if (a[0].equals("pair")) {
        try { Thread.sleep(300); } catch (InterruptedException e) { }   // both requests under way at once
      }
      byte[] out = ("served " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " " + new String(body) + "\n").getBytes();
      ex.getResponseHeaders().set("Content-Type", "text/plain");
      ex.sendResponseHeaders(200, out.length);
      ex.getResponseBody().write(out);
      ex.close();
    });
    srv.setExecutor(Executors.newFixedThreadPool(2));
    srv.start();
    String base = "https://127.0.0.1:" + srv.getAddress().getPort();
    if (a[0].equals("pair")) {
      HttpClient c = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
      var one = c.sendAsync(HttpRequest.newBuilder(URI.create(base + "/one")).POST(HttpRequest.BodyPublishers.ofString("first")).build(),
          HttpResponse.BodyHandlers.ofString());
      var two = c.sendAsync(HttpRequest.newBuilder(URI.create(base + "/two")).POST(HttpRequest.BodyPublishers.ofString("second")).build(),
          HttpResponse.BodyHandlers.ofString());
      System.out.print(one.get().body() + two.get().body());
    } else if (a[0].equals("load")) {
      HttpClient c = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
      URI u = URI.create(base + "/load");
      for (int i = 0; i < 300; i++) c.send(HttpRequest.newBuilder(u).build(), HttpResponse.BodyHandlers.ofByteArray());
      long secs = Long.parseLong(a[2]), end = System.nanoTime() + secs * 1_000_000_000L;
      int n = 0;
      while (System.nanoTime() < end) {
        c.send(HttpRequest.newBuilder(u).build(), HttpResponse.BodyHandlers.ofByteArray());
        n++;
      }
      System.out.println(n / (double) secs);
    } else {
      int npe = 0;
      for (int i = 0; i < 200000; i++) {
        try {
          String s = (i % 2 == 0) ? null : "x";
          s.length();
        } catch (NullPointerException e) {
          npe++;
        }
      }
      HttpClient c = HttpClient.newBuilder().sslContext(ctx).build();
      HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(base + "/client"))
          .POST(HttpRequest.BodyPublishers.ofString("from HttpClient")).build(), HttpResponse.BodyHandlers.ofString());
      System.out.print("HttpClient " + r.statusCode() + " " + r.body());
      HttpsURLConnection u = (HttpsURLConnection) new URL(base + "/urlconn").openConnection();
      u.setSSLSocketFactory(ctx.getSocketFactory());
      u.setDoOutput(true);
      u.setRequestMethod("POST");
      try (OutputStream o = u.getOutputStream()) {
        o.write("from HttpsURLConnection".getBytes());
      }
      System.out.print("HttpsURLConnection " + u.getResponseCode() + " " + new String(u.getInputStream().readAllBytes()));
      System.out.println("npe " + npe);
    }
    srv.stop(0);
    System.exit(0);
  }
}
