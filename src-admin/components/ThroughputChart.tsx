// Completed and failed actions per minute (last hour) or per hour (last day), as stacked bars with a text summary.
import { useState } from '@wordpress/element';
import { __, sprintf } from '@wordpress/i18n';
import { Button } from '@wordpress/components';
import { fillSeries, scale, Point } from '../lib/chart';

const HEIGHT = 120;

export function ThroughputChart({
  perMinute,
  perHour,
  nowMs,
}: {
  perMinute: Point[];
  perHour: Point[];
  nowMs: number;
}) {
  const [range, setRange] = useState<'hour' | 'day'>('hour');
  const series =
    range === 'hour' ? fillSeries(perMinute, nowMs, 60_000, 60) : fillSeries(perHour, nowMs, 3_600_000, 24);
  const bars = scale(series, HEIGHT);
  const completed = series.reduce((s, p) => s + p.completed, 0);
  const failed = series.reduce((s, p) => s + p.failed, 0);
  const width = 100 / series.length;
  const summary = sprintf(
    /* translators: 1: completed count, 2: failed count, 3: time range */
    __('%1$d completed and %2$d failed in the last %3$s.', 'sidecar-scheduler'),
    completed,
    failed,
    range === 'hour' ? __('hour', 'sidecar-scheduler') : __('24 hours', 'sidecar-scheduler'),
  );
  return (
    <div className="sidecar-chart">
      <div className="sidecar-chart__header">
        <h2>{__('Throughput', 'sidecar-scheduler')}</h2>
        <div role="group" className="sidecar-chart__range" aria-label={__('Time range', 'sidecar-scheduler')}>
          <Button
            size="small"
            variant={range === 'hour' ? 'primary' : 'secondary'}
            onClick={() => setRange('hour')}
            aria-pressed={range === 'hour'}
          >
            {__('Last hour', 'sidecar-scheduler')}
          </Button>
          <Button
            size="small"
            variant={range === 'day' ? 'primary' : 'secondary'}
            onClick={() => setRange('day')}
            aria-pressed={range === 'day'}
          >
            {__('Last 24 hours', 'sidecar-scheduler')}
          </Button>
        </div>
      </div>
      <p className="sidecar-chart__summary">{summary}</p>
      <svg
        className="sidecar-chart__svg"
        viewBox={`0 0 100 ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={summary}
      >
        {bars.map((b, i) => (
          <g key={series[i].time}>
            <title>{`${series[i].time} UTC: ${series[i].completed} ${__('completed', 'sidecar-scheduler')}, ${series[i].failed} ${__('failed', 'sidecar-scheduler')}`}</title>
            <rect
              x={i * width + width * 0.1}
              width={width * 0.8}
              y={HEIGHT - b.completed - b.failed}
              height={b.completed}
              className="sidecar-chart__ok"
            />
            <rect
              x={i * width + width * 0.1}
              width={width * 0.8}
              y={HEIGHT - b.failed}
              height={b.failed}
              className="sidecar-chart__fail"
            />
          </g>
        ))}
      </svg>
      <div className="sidecar-chart__legend">
        <span className="sidecar-chart__key sidecar-chart__key--ok" /> {__('Completed', 'sidecar-scheduler')}
        <span className="sidecar-chart__key sidecar-chart__key--fail" /> {__('Failed', 'sidecar-scheduler')}
      </div>
    </div>
  );
}
