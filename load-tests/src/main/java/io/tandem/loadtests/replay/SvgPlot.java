package io.tandem.loadtests.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The replay's plot, written as SVG by hand: three panels sharing the time axis (when each request was sent, in
 * seconds of the replay): its TTFT, its median inter-token latency, and its prefix-cache hit rate. One dot per request
 * that did not fail. Pure: samples in, a string out.
 */
public final class SvgPlot {
    private static final int WIDTH = 720, PANEL = 180, TOP = 30, GAP = 40, LEFT = 70, RIGHT = 20;

    private SvgPlot() {}

    /** A panel's points: x seconds, y in the panel's unit. */
    record Series(String title, String unit, List<double[]> points, double fixedMax) {}

    public static String render(List<Sample> samples, String title) {
        List<double[]> ttft = new ArrayList<>(), itl = new ArrayList<>(), hit = new ArrayList<>();
        for (Sample s : samples) {
            if (s.failed()) continue;
            double x = s.sentNanos() / 1e9;
            if (s.outcome().ttftNanos() >= 0) ttft.add(new double[] {x, s.outcome().ttftNanos() / 1e6});
            if (s.medianItlNanos() >= 0) itl.add(new double[] {x, s.medianItlNanos() / 1e6});
            if (s.hitRate() >= 0) hit.add(new double[] {x, s.hitRate() * 100});
        }
        List<Series> panels = List.of(new Series("TTFT", "ms", ttft, 0), new Series("ITL (median per request)", "ms", itl, 0),
                new Series("prefix hit rate", "%", hit, 100));
        double xMax = niceMax(samples.stream().mapToDouble(s -> s.sentNanos() / 1e9).max().orElse(1));
        int height = TOP + panels.size() * (PANEL + GAP) + 10;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, height, WIDTH, height));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"12\">%s</text>%n", LEFT, escape(title)));
        for (int p = 0; p < panels.size(); p++) panel(svg, panels.get(p), TOP + p * (PANEL + GAP), xMax);
        return svg.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder svg, Series s, int y0, double xMax) {
        double yMax = s.fixedMax() > 0 ? s.fixedMax() : niceMax(s.points().stream().mapToDouble(pt -> pt[1]).max().orElse(1));
        int plotW = WIDTH - LEFT - RIGHT;
        svg.append(String.format(Locale.ROOT, "<g><text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s (%s)</text>%n",
                LEFT, y0 + 12, escape(s.title()), escape(s.unit())));
        int top = y0 + 20, bottom = y0 + PANEL;
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>%n",
                LEFT, top, plotW, bottom - top));
        for (int i = 0; i <= 4; i++) {
            double v = yMax * i / 4;
            double y = bottom - (bottom - top) * i / 4.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT, y, LEFT + plotW, y, LEFT - 4, y + 4, label(v)));
            double xv = xMax * i / 4;
            double x = LEFT + plotW * i / 4.0;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s s</text>%n", x, bottom + 14, label(xv)));
        }
        for (double[] pt : s.points()) {
            double x = LEFT + plotW * Math.min(pt[0] / xMax, 1);
            double y = bottom - (bottom - top) * Math.min(pt[1] / yMax, 1);
            svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#1f77b4\" fill-opacity=\"0.7\"/>%n", x, y));
        }
        if (s.points().isEmpty()) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#888\">no data</text>%n",
                    LEFT + plotW / 2, (top + bottom) / 2));
        }
        svg.append("</g>\n");
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above {@code v} (an axis end). */
    static double niceMax(double v) {
        if (!(v > 0)) return 1;
        double pow = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * pow >= v) return m * pow;
        return 10 * pow;
    }

    private static String label(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2g", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
