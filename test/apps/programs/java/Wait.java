// Waits for its stdin to end, having said "up" (test/apps/javatls.test.ts attaches to it).
public class Wait {
  public static void main(String[] a) throws Exception {
    System.out.println("up");
    System.in.read();
  }
}
