{#- Fitbit's wide minute files (minuteStepsWide_merged.csv, …): one row per user-hour with a
    column per minute (`Steps00` … `Steps59`). These turn them back into one row per minute. -#}

{#- The minute offsets 0-59, as rows (`minute_offset`). -#}
{% macro minute_offsets() -%}
    {%- for minute in range(60) %}
    select {{ minute }} as minute_offset
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The text of the minute `offset_column` from the 60 columns `<prefix>00` … `<prefix>59`. -#}
{% macro wide_minute_value(prefix, offset_column) -%}
    case {{ offset_column }}
        {%- for minute in range(60) %}
        when {{ minute }} then {{ prefix }}{{ '%02d' % minute }}
        {%- endfor %}
    end
{%- endmacro %}
